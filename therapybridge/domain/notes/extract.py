"""The local notes engine's entry point: one ExtractedNotes for a transcript."""

from __future__ import annotations

from therapybridge.document import Evidence, ExtractedNotes, GroundedText, RiskFlag, Segment, Speaker
from therapybridge.domain.analytics import session_analytics
from therapybridge.domain.behaviour import skill_metrics
from therapybridge.domain.notes.actions import find_action_items
from therapybridge.domain.notes.narrative import (
    client_response,
    confident_flags,
    patient_summary,
    session_goals,
    therapist_note,
)
from therapybridge.domain.notes.skills import evidence, find_skills
from therapybridge.domain.notes.strategies import find_strategies
from therapybridge.domain.notes.topics import _RISK_TOPIC, find_mood, find_topics, mood_sentences, topic_sentences
from therapybridge.domain.risk import Sentence, detect_risks_in_sentences, split_sentences


def _with_roles(segments: list[Segment], speakers: list[Speaker]) -> list[Segment]:
    """Segments whose role is missing get their speaker's role, when the speaker list knows it."""
    roles = {sp.label: sp.role for sp in speakers if sp.role}
    if not roles:
        return segments
    return [
        s if s.role or s.speaker not in roles else s.model_copy(update={"role": roles[s.speaker]}) for s in segments
    ]


def _grounded_topics(sents: list[Sentence], labels: list[str], flags: list[RiskFlag]) -> list[GroundedText]:
    """Each topic with the sentences that show it; a topic named after a risk flag cites the flag's quote."""
    out = []
    for label in labels:
        from_flags = [
            f
            for f in flags
            if _RISK_TOPIC[f.type][0] == label
            or (label == "alcohol use" and f.type == "substance_use")
            or (label == "passive suicidal ideation" and f.type == "suicidal_ideation")
        ]
        ev = [Evidence(start=f.start, end=f.end, speaker=f.speaker, quote=f.quote) for f in from_flags[:3]]
        ev = ev or evidence(topic_sentences(sents, label))
        if ev:
            out.append(GroundedText(text=label, evidence=ev))
    return out


RISK_LABELS = frozenset(v[0] for v in _RISK_TOPIC.values()) | {"alcohol use", "passive suicidal ideation"}


def _summary_topics(sents: list[Sentence], grounded: list[GroundedText], flags: list[RiskFlag]) -> list[str]:
    """Topics certain enough to tell the client: a risk topic from a confident flag, or one both came back to
    over at least two turns each; a passing mention or a screening question is not "what we talked about"."""
    out = []
    confident = confident_flags(flags)
    for t in grounded:
        hits = topic_sentences(sents, t.text)
        from_flag = t.text in RISK_LABELS and any(
            e.quote == f.quote and (f in confident or (f.type == "substance_use" and f.severity != "low"))
            for e in t.evidence
            for f in flags
        )
        client = [h for h in hits if h.role != "therapist"]
        # Talked through, not screened: both came back to it over several turns. A screening question and
        # its answer ("Do you smoke?" "I quit twenty years ago.") is one turn each.
        client_turns = {h.turn for h in client}
        therapist_turns = {h.turn for h in hits if h.role == "therapist"}
        # "I was never a smoker": a topic the client mostly denies was not talked about
        denied = sum(1 for h in client if {"never", "not", "no", "don't", "didn't", "wasn't"} & set(h.tokens))
        talked = len(client_turns) >= 2 and len(therapist_turns) >= 2 and denied * 2 < len(client)
        if from_flag or talked:
            out.append(t.text)
    return out


def extract_notes(segments: list[Segment], speakers: list[Speaker]) -> ExtractedNotes:
    """The local, deterministic notes for one session, risk flags and analytics included. Every topic,
    strategy, action item, mood statement and goal carries the transcript passages it rests on; an item
    without any is not stated."""
    segments = _with_roles(segments, speakers)
    sents = split_sentences(segments)
    flags, denials = detect_risks_in_sentences(sents)
    marks: list[tuple[int, str]] = []
    strategies = find_strategies(sents, marks)
    strategies += find_skills(sents, skip={s.key for s in strategies})
    actions = find_action_items(sents, marks)
    grounded = _grounded_topics(sents, find_topics(sents, flags), flags)
    topics = [t.text for t in grounded]
    mood_ev = evidence(mood_sentences(sents, mood := find_mood(sents)))
    mood = mood if mood_ev else ""
    analytics = session_analytics(segments, speakers, sents)
    # Counselling-skill metrics from the segments' behaviour labels (set by therapybridge.behaviour_labels
    # before this runs); without any label, only the rule-based question counts.
    labels = [s.behaviour for s in segments] if any(s.behaviour for s in segments) else None
    analytics |= skill_metrics(
        segments, labels, int(analytics["open_questions"] or 0), int(analytics["questions_total"] or 0)
    )
    response = client_response(sents, strategies, actions)
    goals = session_goals(grounded, strategies, flags)
    clients = frozenset(s.speaker for s in segments if s.role == "client")
    return ExtractedNotes(
        key_topics=topics,
        patient_mood=mood,
        strategies=strategies,
        action_items=actions,
        risk_flags=flags,
        documented_denials=denials,
        therapist_notes=therapist_note(topics, mood, strategies, actions, flags, denials, analytics, response, clients),
        patient_summary=patient_summary(_summary_topics(sents, grounded, flags), strategies, actions, flags, clients),
        analytics=analytics,
        provider="local",
        session_goals=[g.text for g in goals],
        client_response=response,
        topic_evidence=grounded,
        mood_evidence=mood_ev if mood else [],
        session_goal_evidence=goals,
        patient_summary_status="draft",
    )
