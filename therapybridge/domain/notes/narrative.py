"""The therapist note, the client summary, session goals and the client's response."""

from __future__ import annotations

import re

from therapybridge.document import ActionItem, Denial, Evidence, GroundedText, RiskFlag, Strategy
from therapybridge.domain.notes.actions import _content
from therapybridge.domain.notes.actions_lexicon import GERUND, TASK_VERB
from therapybridge.domain.notes.skills_lexicon import SKILLS
from therapybridge.domain.notes.strategies_catalogue import CATALOGUE
from therapybridge.domain.notes.text import _rx
from therapybridge.domain.notes.topics import _AGREE, _RISK_TOPIC, TOPICS
from therapybridge.domain.risk import Sentence, normalise

_PLAIN_TOPIC = (
    {label: plain for label, plain, _ in TOPICS}
    | {v[0]: v[1] for v in _RISK_TOPIC.values()}
    | {"passive suicidal ideation": "some very painful thoughts"}
)
_PLAIN_STRATEGY = {t.name: t.plain for t in CATALOGUE} | {s.name: s.plain for s in SKILLS}
_TYPE_WORDS = {
    "suicidal_ideation": "suicidal ideation",
    "self_harm": "self-harm",
    "harm_to_others": "thoughts of harming others",
    "substance_use": "risky substance use",
    "abuse_or_neglect": "abuse or neglect concerns",
}


def _join(items: list[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _plain_strategy(s: Strategy) -> str:
    """The catalogue's plain description; a context-specific name ("anger rating ...") finds its entry too."""
    if s.name in _PLAIN_STRATEGY:
        return _PLAIN_STRATEGY[s.name]
    words = _content(s.name)
    for tech in CATALOGUE:
        if tech.namer and s.category == tech.category and words & _content(tech.name):
            return tech.plain
    return s.name


def _risk_sentence(flags: list[RiskFlag], denials: list[Denial]) -> str:
    if flags:
        parts = []
        for type_ in dict.fromkeys(f.type for f in flags):
            fs = [f for f in flags if f.type == type_]
            worst = max(fs, key=lambda f: ("low", "moderate", "high").index(f.severity))
            desc = worst.rationale.split(";")[0] if worst.rationale else _TYPE_WORDS[type_]
            parts.append(f"{desc} ({worst.severity}, {len(fs)} statement{'s' if len(fs) > 1 else ''})")
        text = "Risk: client disclosed " + _join(parts) + "."
        denied = sorted({_TYPE_WORDS[d.type] for d in denials if d.type not in {f.type for f in flags}})
        if denied:
            text += " Client denied " + _join(denied) + "."
        plan_denied = any(d.type == "suicidal_ideation" and "question" in d.rationale for d in denials)
        if plan_denied and any(f.type == "suicidal_ideation" for f in flags):
            text += " Client denied a plan when asked directly."
        return text + " Review the flagged statements and document the risk assessment."
    if denials:
        return (
            "Risk: no risk indicators identified; client denied "
            + _join(sorted({_TYPE_WORDS[d.type] for d in denials}))
            + " when asked."
        )
    return "Risk: no risk indicators identified in the transcript."


def therapist_note(
    topics: list[str],
    mood: str,
    strategies: list[Strategy],
    actions: list[ActionItem],
    flags: list[RiskFlag],
    denials: list[Denial],
    analytics: dict[str, float | int | None],
    response: str,
    client_speakers: frozenset[str] = frozenset(),
) -> str:
    parts: list[str] = []
    if mood:
        parts.append(f"Client presented as {mood}.")
    if topics:
        parts.append(f"Session focused on {_join(topics)}.")
    skills = [s.name for s in strategies if s.name in SKILL_NAMES]
    strategies = [s for s in strategies if s.name not in SKILL_NAMES]
    by_status = {st: [s.name for s in strategies if s.status == st] for st in ("introduced", "practiced", "reviewed")}
    if by_status["reviewed"]:
        parts.append(f"Reviewed {_join(by_status['reviewed'])} from previous work.")
    if by_status["practiced"]:
        parts.append(f"Practised {_join(by_status['practiced'])} in session.")
    if by_status["introduced"]:
        parts.append(f"Therapist introduced {_join(by_status['introduced'])}.")
    if skills:
        parts.append(f"Counselling skills used: {_join(skills)}.")
    if response:
        parts.append(response)
    own = [e.quote for a in actions for e in a.evidence if e.speaker in client_speakers]
    if own:
        parts.append("In the client's words: " + " ".join(f'"{q}"' for q in dict.fromkeys(own[:3])))
    parts.append(_risk_sentence(flags, denials))
    hw = [a.task for a in actions if a.category == "homework"]
    if hw:
        parts.append(f"Homework: {'; '.join(hw)}.")
    other = [f"{a.task} ({a.category})" for a in actions if a.category != "homework"]
    if other:
        parts.append(f"Plan: {'; '.join(other)}.")
    share = analytics.get("talk_share_client")
    if isinstance(share, float):
        parts.append(f"Client spoke for {round(share * 100)}% of the session.")
    return " ".join(parts)


SKILL_NAMES = frozenset(s.name for s in SKILLS)  # found by skills.py, not taught techniques
# Therapist skills are how the session was run, not something the client took away: not in the summary.
_NOT_FOR_CLIENT = frozenset(
    {"reflective_listening", "affirmation", "summary", "asking_permission", "screening_feedback", "information_advice"}
)


def confident_flags(flags: list[RiskFlag]) -> list[RiskFlag]:
    """Flags certain enough to speak of to the client: suicidal ideation or self-harm at moderate or high
    severity, harm to others or abuse at high severity. Anything less is for the clinician to raise."""
    return [
        f
        for f in flags
        if (f.type in ("suicidal_ideation", "self_harm") and f.severity != "low")
        or (f.type in ("harm_to_others", "abuse_or_neglect") and f.severity == "high")
    ]


# A time in a follow-up ("in two weeks", "next month") for the plain sentence the client reads.
_FIRM = re.compile(
    r"\b(?:i'll|i will|i'm going to|i'm gonna|i am going to|i plan to|i'm planning|i promise|i decided)\b"
)
_WHEN = re.compile(
    r"\b(?:next (?:week|month|monday|tuesday|wednesday|thursday|friday)"
    r"|in (?:a|one|two|three|four|six|a few|a couple of) (?:days?|weeks?|months?))\b"
)
# A task copied from speech that a client should not read as written: cut off, stammered, or hedged.
_ROUGH = re.compile(
    r"--|—|-$|\b(\w+)[- ]\1\b|\bi suppose\b|\bor something\b|\blike\b|\byou know\b|\bum\b|\buh\b|'cause\b"
    r"|\b(?:you|i) would\b"
)


_ASKED_ABOUT = re.compile(r"^(?:(?:so|and|okay|ok|now|um)\s+)*(?:have|has|did|were|was|do|does|are|is) you\b")
_PROPOSAL = re.compile(
    r"\b(?:i'd like you to|i would like you to|i want you to|would you be willing to|how about|could you|can you"
    r"|let's|for homework|this week|why don't you|what if you|you could try|i (?:would |'d )?recommend|i suggest"
    r"|i'd suggest|would you like to|are you willing to|would it be (?:all right|ok|okay) if we|see you|come back)\b"
)
_DONE_ALREADY = re.compile(r"\b(?:i've been|i have been|i went|i already|i've already|i did|i had)\b")
_YES = re.compile(
    r"^(?:(?:um|uh|well|mm hmm|mm)\s+)*(?:yes|yeah|yep|okay|ok|sure|sounds good|that sounds good|all right|alright"
    r"|i can do that|i'll do that|i will|i'll try|definitely|absolutely|that works|for sure)\b"
)


def _agreed(item: ActionItem, client_speakers: frozenset[str]) -> bool:
    """What the client reads as agreed: a step the therapist proposed and the client said yes to, in those
    words. A client's own plans stay in the clinician's notes: said in passing, about other people, or as
    a hope, they are too easy to misread, and the clinician can add them before approving the summary."""
    therapist = [e for e in item.evidence if e.speaker not in client_speakers]
    client = [e for e in item.evidence if e.speaker in client_speakers]
    if not therapist or not client:
        return False
    asked, reply = normalise(therapist[0].quote), normalise(client[0].quote)
    if _ASKED_ABOUT.match(asked) or not _PROPOSAL.search(asked):
        return False  # "Have you seen a doctor?" "Yes." answers; "...and a green light to see your kids" reflects
    # "Well, yeah, I've been to the doctor last year": a report of the past, not a yes to a new step
    return bool(_YES.match(reply)) and not _DONE_ALREADY.search(reply)


def _starts_with_verb(task: str) -> bool:
    """A plan a client can read starts with what to do ("call the clinic"), not a fragment ("the team")."""
    first = (task.split() or [""])[0].lower()
    return bool(TASK_VERB.fullmatch(first)) or first in GERUND.values()


def patient_summary(
    topics: list[str],
    strategies: list[Strategy],
    actions: list[ActionItem],
    flags: list[RiskFlag],
    client_speakers: frozenset[str] = frozenset(),
) -> str:
    """Plain language, second person, no jargon, and only what the session clearly holds: the topics given
    (already filtered for strong evidence by the caller), techniques the therapist taught (not the
    therapist's own counselling skills), plans the client made or agreed to in words a client can read,
    and a follow-up only with its time. A draft for the clinician (ExtractedNotes.patient_summary_status);
    it says nothing about risk or crisis resources unless a high-confidence flag exists."""
    parts = ["Thank you for coming in today."]
    plain_topics = list(dict.fromkeys(_PLAIN_TOPIC.get(t, t) for t in topics[:4]))
    if plain_topics:
        parts.append(f"We talked about {_join(plain_topics)}.")
    taught = [  # taught by the therapist: named in at least two of the therapist's sentences
        st
        for st in strategies
        if st.name not in SKILL_NAMES
        and st.category != "psychoeducation"
        and sum(1 for e in st.evidence if e.speaker not in client_speakers) >= 2
    ]
    tried = list(dict.fromkeys(_plain_strategy(st) for st in taught))[:4]
    if tried:
        parts.append(f"Together we looked at {_join(tried)}.")
    # Agreed: a therapist's task the client said yes to, or the client's own firm commitment ("I'll call her",
    # not "I can see my kids", which may say what the client is able to do).
    agreed = [a for a in actions if _agreed(a, client_speakers)]
    todo = [
        t
        for a in agreed
        if a.category in ("homework", "referral", "safety")
        # the main clause: what follows a comma is often a fragment
        for t in [_second_person(a.task.split(", ")[0])]
        if not _ROUGH.search(a.task.lower()) and not _ROUGH.search(t.lower()) and _starts_with_verb(t)
    ]
    if todo:
        parts.append("Before next time, you agreed to: " + "; ".join(dict.fromkeys(todo)) + ".")
    whens = [m.group(0) for a in agreed if a.category == "follow-up" for m in [_WHEN.search(a.task.lower())] if m]
    if whens:
        parts.append(f"We planned to meet again {whens[0]}.")
    types = {f.type for f in confident_flags(flags)}
    if types & {"suicidal_ideation", "self_harm"}:
        parts.append(
            "You shared that some things have felt very hard lately, and that took courage. If those feelings "
            "get stronger, please use your plan, reach out to someone you trust, call or text your local crisis "
            "line, or go to the nearest emergency room. You don't have to face it alone."
        )
    elif types & {"harm_to_others", "abuse_or_neglect"}:
        parts.append(
            "Your safety and the safety of the people around you matter. If you ever feel unsafe, "
            "please contact your local emergency number or a crisis line right away."
        )
    return " ".join(parts)


def _second_person(task: str) -> str:
    """A task as the client reads it: "therapist to call the client" → "your therapist will call you"."""
    t = re.sub(r"^therapist to (\w+) the client\b", r"your therapist will \1 you", task)
    t = re.sub(r"\bmy\b", "your", t)
    t = re.sub(r"\bmyself\b", "yourself", t)
    t = re.sub(r"\bme\b", "you", t)
    t = re.sub(r"\bI'm\b", "you're", t)
    return re.sub(r"\bI\b", "you", t)


_RESPONSE_POS = _rx(
    r"calmer",
    r"helps?",
    r"helped",
    r"makes sense",
    r"manageable",
    r"less heavy",
    r"dropped",
    r"slower",
    r"good to know",
    r"doable",
    r"surprised me",
    r"sounds good",
    r"i like that",
)
_RESPONSE_DOUBT = _rx(r"skeptical", r"backwards", r"scary", r"weird", r"hard to", r"not sure", r"nervous")


def client_response(sents: list[Sentence], strategies: list[Strategy], actions: list[ActionItem]) -> str:
    client = [s for s in sents if s.role in ("client", None)]
    pos = sum(1 for s in client if _RESPONSE_POS.search(s.norm))
    doubt = sum(1 for s in client if _RESPONSE_DOUBT.search(s.norm))
    took_up = any("client" in a.details or len(a.evidence) > 1 for a in actions)  # the client's own yes is evidence
    agreed = took_up or sum(1 for s in client if _AGREE.search(s.norm)) >= 3
    parts = []
    if strategies:
        if pos and doubt:
            parts.append("Client voiced some hesitation but responded positively to the interventions")
        elif pos:
            parts.append("Client responded positively to the interventions")
        elif doubt:
            parts.append("Client was hesitant about the interventions")
        else:
            parts.append("Client's response to the interventions was not clearly stated")
    if actions:
        parts.append("agreed to the plan" if agreed else "the plan was discussed")
    return (_join(parts) + ".") if parts else ""


def session_goals(topics: list[GroundedText], strategies: list[Strategy], flags: list[RiskFlag]) -> list[GroundedText]:
    """What the session worked towards, each goal with the evidence of the item it comes from."""
    goals: list[GroundedText] = []
    safety = [f for f in flags if f.type in ("suicidal_ideation", "self_harm")]
    if safety:
        goals.append(
            GroundedText(text="Keep the client safe: assess risk and agree a safety plan", evidence=_ev(safety))
        )
    subst = [f for f in flags if f.type == "substance_use"]
    if subst:
        goals.append(GroundedText(text="Reduce risky substance use", evidence=_ev(subst)))
    risk_labels = {_RISK_TOPIC[f.type][0] for f in flags}
    for t in topics[:3]:
        if t.text not in risk_labels and "suicidal" not in t.text and t.evidence:
            goals.append(GroundedText(text=f"Address {t.text}", evidence=t.evidence))
    for st in [st for st in strategies if st.key not in _NOT_FOR_CLIENT and st.category != "psychoeducation"][:3]:
        goals.append(GroundedText(text=f"Build skills: {st.name}", evidence=st.evidence))
    return goals


def _ev(flags: list[RiskFlag]) -> list[Evidence]:
    return [Evidence(start=f.start, end=f.end, speaker=f.speaker, quote=f.quote) for f in flags[:3]]
