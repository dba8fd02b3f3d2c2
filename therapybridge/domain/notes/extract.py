"""The local notes engine's entry point: one ExtractedNotes for a transcript."""

from __future__ import annotations

from therapybridge.document import ExtractedNotes, Segment, Speaker
from therapybridge.domain.analytics import session_analytics
from therapybridge.domain.notes.actions import find_action_items
from therapybridge.domain.notes.narrative import client_response, patient_summary, session_goals, therapist_note
from therapybridge.domain.notes.skills import find_skills
from therapybridge.domain.notes.strategies import find_strategies
from therapybridge.domain.notes.topics import find_mood, find_topics
from therapybridge.domain.risk import detect_risks_in_sentences, split_sentences


def _with_roles(segments: list[Segment], speakers: list[Speaker]) -> list[Segment]:
    """Segments whose role is missing get their speaker's role, when the speaker list knows it."""
    roles = {sp.label: sp.role for sp in speakers if sp.role}
    if not roles:
        return segments
    return [
        s if s.role or s.speaker not in roles else s.model_copy(update={"role": roles[s.speaker]}) for s in segments
    ]


def extract_notes(segments: list[Segment], speakers: list[Speaker]) -> ExtractedNotes:
    """The local, deterministic notes for one session, risk flags and analytics included."""
    segments = _with_roles(segments, speakers)
    sents = split_sentences(segments)
    flags, denials = detect_risks_in_sentences(sents)
    marks: list[tuple[int, str]] = []
    strategies = find_strategies(sents, marks)
    strategies += find_skills(sents, skip={s.key for s in strategies})
    actions = find_action_items(sents, marks)
    topics = find_topics(sents, flags)
    mood = find_mood(sents)
    analytics = session_analytics(segments, speakers, sents)
    response = client_response(sents, strategies, actions)
    return ExtractedNotes(
        key_topics=topics,
        patient_mood=mood,
        strategies=strategies,
        action_items=actions,
        risk_flags=flags,
        documented_denials=denials,
        therapist_notes=therapist_note(topics, mood, strategies, actions, flags, denials, analytics, response),
        patient_summary=patient_summary(topics, strategies, actions, flags),
        analytics=analytics,
        provider="local",
        session_goals=session_goals(topics, strategies, flags),
        client_response=response,
    )
