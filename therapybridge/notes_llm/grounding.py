"""The model's answer grounded in the transcript: its notes over the local ones, every evidence field
and every LLM risk flag taken from transcript sentences its quotes were found in (quotes.py); the
local risk flags and denials always kept."""

from __future__ import annotations

from therapybridge.document import ActionItem, Evidence, ExtractedNotes, GroundedText, RiskFlag, Segment, Strategy
from therapybridge.domain.risk import may_be_client, split_sentences
from therapybridge.notes_llm.quotes import QuoteTally, Transcript, evidence
from therapybridge.notes_llm.schema import LlmNotes, LlmRisk


def add_llm_flags(
    local: list[RiskFlag], llm: list[LlmRisk], segments: list[Segment], tally: QuoteTally | None = None
) -> list[RiskFlag]:
    """Local flags plus LLM findings whose quote is the client's words verbatim and that are not already
    flagged locally. The flag carries the transcript sentence, not the model's quote."""
    client = Transcript([s for s in split_sentences(segments) if may_be_client(s)])
    tally = tally or QuoteTally()
    out = list(local)
    for r in llm:
        found = client.find(r.quote)
        tally.note(bool(found))
        if not found:
            continue
        s = max(found, key=lambda x: len(x.text))  # the sentence that carries most of the quote
        if any(f.type == r.type and f.start <= s.end and s.start <= f.end for f in out):
            continue
        out.append(
            RiskFlag(
                type=r.type,
                severity=r.severity,
                quote=s.text,
                start=round(s.start, 2),
                end=round(s.end, 2),
                speaker=s.speaker,
                rationale=r.rationale,
                source="llm",
            )
        )
    return sorted(out, key=lambda f: (f.start, f.type))


def combine(
    local: ExtractedNotes, llm: LlmNotes, segments: list[Segment], provider: str, message: str
) -> ExtractedNotes:
    """The model's notes over the local ones. Every evidence field comes from the transcript (see
    quotes.py); the local risk flags and denials are always kept."""
    transcript = Transcript(split_sentences(segments))
    tally = QuoteTally()

    def ev(quotes: list[str]) -> list[Evidence]:
        return evidence(quotes, transcript, tally)

    update: dict[str, object] = {
        "strategies": [Strategy(**s.model_dump(exclude={"quotes"}), evidence=ev(s.quotes)) for s in llm.strategies]
        or local.strategies,
        "action_items": [
            ActionItem(**a.model_dump(exclude={"quotes"}), evidence=ev(a.quotes)) for a in llm.action_items
        ]
        or local.action_items,
        "therapist_notes": llm.therapist_notes or local.therapist_notes,
        # The client summary stays the local one: it is built only from grounded items and speaks of
        # risk only for a high-confidence flag; a model's free text promises neither.
        "patient_summary": local.patient_summary,
        "provider": provider,
    }
    topics = [t for t in llm.key_topics if t.text.strip()]
    if topics:  # topic_evidence is in key_topics' order, so both come from the same engine
        update["key_topics"] = [t.text for t in topics]
        update["topic_evidence"] = [GroundedText(text=t.text, evidence=ev(t.quotes)) for t in topics]
    if llm.patient_mood.strip():
        update["patient_mood"] = llm.patient_mood
        update["mood_evidence"] = ev(llm.mood_quotes)
    update["risk_flags"] = add_llm_flags(local.risk_flags, llm.risk_flags, segments, tally)
    if tally.dropped:
        message += f"; {tally.dropped} of {tally.checked} quotes not found in the transcript were dropped"
    update["provider_message"] = message
    return local.model_copy(update=update)
