"""SOAP, DAP, BIRP and GIRP renderings of ExtractedNotes."""

from __future__ import annotations

import pytest

from therapybridge.document import ActionItem, Denial, ExtractedNotes, RiskFlag, Segment, Strategy
from therapybridge.domain.note_formats import FORMATS, render_note

NOTES = ExtractedNotes(
    key_topics=["work stress", "sleep difficulties"],
    patient_mood="anxious, calmer by the end",
    strategies=[
        Strategy(name="box breathing", category="relaxation", status="introduced"),
        Strategy(name="sleep diary", category="self-monitoring", status="reviewed"),
    ],
    action_items=[
        ActionItem(task="practice box breathing twice a day", category="homework"),
        ActionItem(task="call the crisis line if the thoughts get stronger", category="safety"),
        ActionItem(task="therapist to call the client on Friday", category="follow-up"),
    ],
    risk_flags=[
        RiskFlag(
            type="suicidal_ideation",
            severity="moderate",
            quote="I wish I could not wake up.",
            start=125.0,
            end=128.0,
            speaker="SPEAKER_01",
            rationale="passive suicidal ideation",
        ),
        RiskFlag(
            type="substance_use",
            severity="low",
            quote="I drink a bit more lately.",
            start=200.0,
            end=203.0,
            speaker="SPEAKER_01",
            source="llm",
        ),
    ],
    documented_denials=[
        Denial(type="self_harm", quote="No, I've never hurt myself.", start=140.0, end=142.0, speaker="SPEAKER_01")
    ],
    therapist_notes="Client presented as anxious.",
    client_response="Client responded positively to the interventions.",
    session_goals=["Reduce anxiety at work"],
    analytics={
        "talk_share_client": 0.6,
        "talk_share_therapist": 0.4,
        "longest_client_monologue_s": 42.0,
        "open_questions": 5,
        "questions_total": 8,
        "session_duration_s": 600.0,
    },
)
HEADINGS = {
    "soap": ["S — Subjective", "O — Objective", "A — Assessment", "P — Plan"],
    "dap": ["D — Data", "A — Assessment", "P — Plan"],
    "birp": ["B — Behavior", "I — Intervention", "R — Response", "P — Plan"],
    "girp": ["G — Goals", "I — Intervention", "R — Response", "P — Plan"],
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_sections_in_order(fmt: str) -> None:
    text = render_note(NOTES, fmt)  # type: ignore[arg-type]
    assert text.startswith(f"{fmt.upper()} note")
    positions = [text.index(h) for h in HEADINGS[fmt]]
    assert positions == sorted(positions)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_carries_risk_plan_and_interventions(fmt: str) -> None:
    text = render_note(NOTES, fmt)  # type: ignore[arg-type]
    assert 'Suicidal ideation, moderate severity, at 2:05: "I wish I could not wake up."' in text
    assert "[LLM finding, verify]" in text  # an LLM flag is marked as such
    assert 'Denied self-harm at 2:20: "No, I\'ve never hurt myself."' in text
    assert "Safety: call the crisis line if the thoughts get stronger" in text
    assert "Homework: practice box breathing twice a day" in text
    assert text.index("Safety:") < text.index("Homework:") < text.index("Follow-up:")
    assert "Introduced box breathing (relaxation)" in text and "Reviewed sleep diary (self-monitoring)" in text


def test_objective_measures_and_goals() -> None:
    soap = render_note(NOTES, "soap")
    assert "Session length about 10 min." in soap and "client 60%, therapist 40%" in soap
    assert "Therapist asked 8 questions (5 open)." in soap
    assert "- Reduce anxiety at work" in render_note(NOTES, "girp")
    segs = [Segment(start=0, end=10, text="a"), Segment(start=290, end=300, text="b")]
    assert "Session length about 5 min." in render_note(NOTES, "soap", segs)


def test_empty_notes_render_and_say_so() -> None:
    for fmt in FORMATS:
        text = render_note(ExtractedNotes(), fmt)
        assert "No risk indicators identified" in text
        assert "None documented." in text


def test_provider_in_header_and_bad_format() -> None:
    assert render_note(NOTES.model_copy(update={"provider": "openai"}), "dap").startswith("DAP note (notes by openai)")
    with pytest.raises(ValueError):
        render_note(NOTES, "xyz")  # type: ignore[arg-type]
