"""A session document and its notes as a clinician reads them in a terminal."""

from __future__ import annotations

from therapybridge.document import Evidence, ExtractedNotes, SessionDocument
from therapybridge.domain.clock import clock


def render_for_terminal(doc: SessionDocument) -> str:
    lines = [f"Duration {doc.duration_seconds or 0:.1f}s · language {doc.language} · diarization {doc.diarization}"]
    if doc.speakers:
        lines.append(
            "Speakers: " + ", ".join(f"{s.label} ({s.role or 'unknown'}, {s.talk_seconds:.0f}s)" for s in doc.speakers)
        )
    lines += ["", "── Transcript ──", ""]
    for seg in doc.transcript_segments:
        who = (seg.role or seg.speaker).capitalize() if seg.role else seg.speaker
        lines.append(f"[{clock(seg.start)}] {who}: {seg.text}")
    if doc.extracted_notes:
        lines += ["", render_notes(doc.extracted_notes)]
    if doc.timings:
        lines += ["", "Timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in doc.timings.items())]
    return "\n".join(lines)


def render_notes(n: ExtractedNotes) -> str:
    """The notes as a clinician reads them in a terminal, each item with where it was said."""
    lines = ["── Notes ──", ""]
    if n.risk_flags:
        lines.append("RISK FLAGS:")
        lines += [f'  ! {f.type} ({f.severity}) at {clock(f.start)}: "{f.quote}"' for f in n.risk_flags]
    if n.documented_denials:
        lines.append("Documented denials: " + "; ".join(f"{d.type} at {clock(d.start)}" for d in n.documented_denials))
    lines.append("Topics: " + (", ".join(n.key_topics) or "-"))
    lines.append(f"Mood: {n.patient_mood or '-'}")
    if n.strategies:
        lines.append("Strategies: " + "; ".join(f"{s.name} ({s.status}{_at(s.evidence)})" for s in n.strategies))
    if n.action_items:
        lines.append("Action items: " + "; ".join(f"{a.task} ({a.category}{_at(a.evidence)})" for a in n.action_items))
    a = n.analytics
    if a.get("reflection_to_question") is not None or a.get("questions"):

        def show(key: str) -> str:
            return "-" if a.get(key) is None else str(a[key])

        lines.append(
            f"Counselling skills: {show('reflections')} reflections, {show('questions')} questions "
            f"(reflection-to-question {show('reflection_to_question')}, open {show('percent_open_questions')}%), "
            f"change talk {show('change_talk')}, sustain talk {show('sustain_talk')}"
        )
    if n.therapist_notes:
        lines += ["", "Therapist notes: " + n.therapist_notes]
    if n.patient_summary:
        label = "draft for the clinician to review" if n.patient_summary_status == "draft" else "approved"
        lines += ["", f"Client summary ({label}): " + n.patient_summary]
    if n.provider_message:
        lines += ["", f"Notes provider: {n.provider} ({n.provider_message})"]
    return "\n".join(lines)


def _at(evidence: list[Evidence]) -> str:
    return f", at {clock(evidence[0].start)}" if evidence else ""
