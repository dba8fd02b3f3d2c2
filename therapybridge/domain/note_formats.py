"""Clinical note renderings of ExtractedNotes: SOAP, DAP, BIRP and GIRP, as plain text.

Pure functions. The sections are built from the same blocks (presentation, interventions, response,
risk, plan) so the four formats never disagree. `segments`, when given, adds the session length and
the time of each risk statement in mm:ss.
"""

from __future__ import annotations

from typing import Literal

from therapybridge.document import ExtractedNotes, Segment
from therapybridge.domain.clock import clock

Format = Literal["soap", "dap", "birp", "girp"]
FORMATS: tuple[Format, ...] = ("soap", "dap", "birp", "girp")

_TYPE_LABEL = {
    "suicidal_ideation": "Suicidal ideation",
    "self_harm": "Self-harm",
    "harm_to_others": "Harm to others",
    "substance_use": "Substance use",
    "abuse_or_neglect": "Abuse or neglect",
}


def _bullets(items: list[str], empty: str = "None documented.") -> str:
    return "\n".join(f"- {i}" for i in items) if items else f"- {empty}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _presentation(n: ExtractedNotes) -> list[str]:
    out = []
    if n.key_topics:
        out.append(f"Client discussed {_join(n.key_topics)}.")
    if n.patient_mood:
        out.append(f"Mood/affect: {n.patient_mood}.")
    return out


def _objective(n: ExtractedNotes, segments: list[Segment] | None) -> list[str]:
    a = n.analytics
    out = []
    dur = a.get("session_duration_s")
    if segments:
        dur = max(s.end for s in segments) - min(s.start for s in segments)
    if isinstance(dur, int | float) and dur > 0:
        out.append(f"Session length about {max(1, round(dur / 60))} min.")
    share_c, share_t = a.get("talk_share_client"), a.get("talk_share_therapist")
    if isinstance(share_c, float) and isinstance(share_t, float):
        out.append(f"Talk time: client {round(share_c * 100)}%, therapist {round(share_t * 100)}%.")
    mono = a.get("longest_client_monologue_s")
    if isinstance(mono, int | float):
        out.append(f"Longest client monologue {round(mono)} s.")
    oq, q = a.get("open_questions"), a.get("questions_total")
    if isinstance(oq, int) and isinstance(q, int) and q:
        out.append(f"Therapist asked {q} questions ({oq} open).")
    return out


def _interventions(n: ExtractedNotes) -> list[str]:
    verb = {"introduced": "Introduced", "practiced": "Practised", "reviewed": "Reviewed"}
    return [f"{verb[s.status]} {s.name} ({s.category})" for s in n.strategies]


def _risk(n: ExtractedNotes) -> list[str]:
    out = []
    for f in n.risk_flags:
        src = " [LLM finding, verify]" if f.source == "llm" else ""
        why = f" ({f.rationale})" if f.rationale else ""
        out.append(f'{_TYPE_LABEL[f.type]}, {f.severity} severity, at {clock(f.start)}: "{f.quote}"{why}{src}')
    for d in n.documented_denials:
        out.append(f'Denied {_TYPE_LABEL[d.type].lower()} at {clock(d.start)}: "{d.quote}"')
    if not out:
        out.append("No risk indicators identified in the transcript.")
    return out


def _plan(n: ExtractedNotes) -> list[str]:
    order = {"safety": 0, "referral": 1, "homework": 2, "follow-up": 3}
    items = sorted(n.action_items, key=lambda a: order.get(a.category, 9))
    return [f"{a.category.capitalize()}: {a.task}" for a in items]


def _response(n: ExtractedNotes) -> str:
    return n.client_response or "Client response not documented."


def _goals(n: ExtractedNotes) -> list[str]:
    return n.session_goals or [f"Address {t}" for t in n.key_topics[:3]]


def _section(title: str, body: str) -> str:
    return f"{title}\n{body.strip()}"


def render_note(notes: ExtractedNotes, fmt: Format, segments: list[Segment] | None = None) -> str:
    """The session note in one of the standard formats (plain text, one heading per section)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown note format {fmt!r}; expected one of {', '.join(FORMATS)}")
    pres = " ".join(_presentation(notes)) or "No presenting concerns documented."
    obj = " ".join(_objective(notes, segments)) or "No session measures available."
    interventions = _bullets(_interventions(notes))
    risk = _bullets(_risk(notes))
    plan = _bullets(_plan(notes))
    assessment = (notes.therapist_notes or pres) + "\n\nRisk:\n" + risk
    sections: list[tuple[str, str]]
    if fmt == "soap":
        sections = [
            ("S — Subjective", pres),
            ("O — Objective", f"{obj}\n{_response(notes)}"),
            ("A — Assessment", assessment),
            ("P — Plan", f"Interventions:\n{interventions}\n\nNext steps:\n{plan}"),
        ]
    elif fmt == "dap":
        sections = [
            ("D — Data", f"{pres}\n{obj}\n\nInterventions:\n{interventions}"),
            ("A — Assessment", f"{_response(notes)}\n{assessment}"),
            ("P — Plan", plan),
        ]
    elif fmt == "birp":
        sections = [
            ("B — Behavior", f"{pres}\n{obj}"),
            ("I — Intervention", interventions),
            ("R — Response", f"{_response(notes)}\n\nRisk:\n{risk}"),
            ("P — Plan", plan),
        ]
    else:  # girp
        sections = [
            ("G — Goals", _bullets(_goals(notes))),
            ("I — Intervention", interventions),
            ("R — Response", f"{_response(notes)}\n{pres}\n\nRisk:\n{risk}"),
            ("P — Plan", plan),
        ]
    header = f"{fmt.upper()} note"
    if notes.provider != "local":
        header += f" (notes by {notes.provider})"
    return "\n\n".join([header, *(_section(t, b) for t, b in sections)]) + "\n"
