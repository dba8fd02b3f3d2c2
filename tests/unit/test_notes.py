"""The local notes extractor on small dialogues written for these tests (the corpus has its own test)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from therapybridge.document import Segment, Speaker
from therapybridge.domain.notes import extract_notes, find_action_items, find_strategies
from therapybridge.domain.risk import split_sentences

FIXTURE = Path(__file__).parents[1] / "fixtures" / "notes_session.json"
ROLE = {"t": "therapist", "c": "client"}
LABEL = {"t": "SPEAKER_00", "c": "SPEAKER_01"}


def session(roles: bool = True) -> tuple[list[Segment], list[Speaker]]:
    turns = json.loads(FIXTURE.read_text())["turns"]
    segs = [
        Segment(start=a, end=b, speaker=LABEL[w], role=ROLE[w] if roles else None, text=text)  # type: ignore[arg-type]
        for w, a, b, text in turns
    ]
    speakers = [
        Speaker(
            label=LABEL[w],
            role=ROLE[w] if roles else None,  # type: ignore[arg-type]
            talk_seconds=sum(s.end - s.start for s in segs if s.speaker == LABEL[w]),
        )
        for w in ("t", "c")
    ]
    return segs, speakers


def dialogue(*lines: str) -> list[Segment]:
    """Alternating therapist/client lines, 5 s apart."""
    out = []
    for i, text in enumerate(lines):
        w = "t" if i % 2 == 0 else "c"
        out.append(Segment(start=i * 5.0, end=i * 5.0 + 4.0, speaker=LABEL[w], role=ROLE[w], text=text))  # type: ignore[arg-type]
    return out


def test_fixture_session_notes() -> None:
    notes = extract_notes(*session())
    strategies = {s.name: s.status for s in notes.strategies}
    assert strategies.get("progressive muscle relaxation") == "introduced"
    # "one of the thinking traps we talked about": named again from earlier work
    assert strategies.get("identifying catastrophizing") == "reviewed"
    tasks = {a.task: a.category for a in notes.action_items}
    assert any(t.startswith("practice the relaxation every evening") and c == "homework" for t, c in tasks.items())
    assert any(t.startswith("write down one balanced thought") for t in tasks)
    assert any("doctor" in t and c == "referral" for t, c in tasks.items())
    assert any(t.startswith("therapist to call the client on Monday") and c == "follow-up" for t, c in tasks.items())
    assert "anxiety" in notes.key_topics or "work stress" in notes.key_topics
    assert "anxious" in notes.patient_mood or "tense" in notes.patient_mood
    assert notes.risk_flags == []
    assert notes.provider == "local" and notes.provider_message is None


def test_statuses_introduced_practiced_reviewed() -> None:
    segs = dialogue(
        "Last week you started the sleep diary. How did that go?",
        "I filled it in every day.",
        "Last session we talked about I statements. Would you be willing to practice it now? I'll play your sister.",
        "Okay. I feel hurt when you cancel plans, because I was looking forward to it.",
        "Good. I'd also like to introduce mindfulness, just noticing your breath for a minute.",
        "I can try that.",
    )
    got = {s.name: s.status for s in find_strategies(split_sentences(segs))}
    assert got == {
        "sleep diary": "reviewed",
        "I statements": "practiced",
        "role-play": "introduced",
        "mindfulness": "introduced",
    }


def test_action_items_are_split_categorised_and_resolved() -> None:
    segs = dialogue(
        "So for homework, keep a mood log, call the crisis line if you feel unsafe, and see your GP about the pills.",
        "Okay.",
        "Let's practice the grounding exercise once more. Could you use it once a day this week?",
        "Yes. My partner could do it with me on Saturday.",
        "How would you feel about telling your brother about the panic attacks?",
        "I'll text him tonight.",
    )
    items = find_action_items(split_sentences(segs))
    got = [(a.task, a.category) for a in items]
    assert ("keep a mood log", "homework") in got
    assert ("call the crisis line if you feel unsafe", "safety") in got
    assert ("see your GP about the pills", "referral") in got
    assert any(t.startswith("use it once a day this week") and "saturday" in t and "with partner" in t for t, _ in got)
    assert ("text him (brother) tonight", "homework") in got
    assert all(a.details for a in items)


def test_one_request_with_its_elaboration_or_back_reference_is_one_item() -> None:
    segs = dialogue(
        "I'd also like you to keep a short panic log, noting where you were and what you did.",
        "Okay.",
        "Write down a list of reasons to go back to the gym, and then on the other side of the list, put down "
        "ideas that will help you get there.",
        "Sure.",
        "So this week, call your doctor for an appointment, keep the drink diary, and aim for two alcohol free nights.",
        "Okay.",
    )
    tasks = [a.task for a in find_action_items(split_sentences(segs))]
    assert tasks[0].startswith("keep a short panic log") and "where you were" in tasks[0]
    assert tasks[1].startswith("write down a list of reasons") and "ideas that will help" in tasks[1]
    assert tasks[2:] == [
        "call your doctor for an appointment",
        "keep the drink diary",
        "aim for two alcohol free nights",
    ]


def test_commitments_to_not_do_something_and_requests_that_trail_off() -> None:
    segs = dialogue(
        "So do you think you can quit?",
        "Yeah, definitely. I'll just not have a drink.",
        "So when I see you next time, that's what I'd like you to do is to, uh, experiment with getting up an hour "
        "earlier and, um-- You know, 'cause, uh, getting healthier is more important than sleep.",
        "Okay. And I'm still gonna try that when the urge comes, and maybe not go out for a cigarette until the next "
        "urge.",
    )
    tasks = [a.task for a in find_action_items(split_sentences(segs))]
    assert "not have a drink" in tasks
    assert "experiment with getting up an hour earlier" in tasks  # "So when ..." is not a question
    assert not any("healthier" in t for t in tasks)  # the words after the dash are not a task
    assert any("not go out for a cigarette" in t for t in tasks)


def test_in_session_instructions_and_questions_are_not_homework() -> None:
    segs = dialogue(
        "Can you tell me about the week?",
        "It was fine.",
        "Let's try the breathing together now. Breathe in for four.",
        "Okay.",
        "What could you tell yourself in that moment?",
        "That it will pass.",
    )
    assert find_action_items(split_sentences(segs)) == []


def test_patient_summary_is_plain_second_person_and_gentle() -> None:
    segs = dialogue(
        "How have things been?",
        "Honestly, sometimes I wish I could go to sleep and never wake up.",
        "Thank you for telling me. I'd like us to make a safety plan together. For homework, keep the safety plan "
        "by your bed and call the crisis line if the thoughts get stronger.",
        "Okay, I can do that.",
        "Let's also try behavioral activation: plan small activities. Could you take a short walk every day?",
        "I'll try.",
    )
    notes = extract_notes(segs, [])
    assert [f.type for f in notes.risk_flags] == ["suicidal_ideation"]
    summary = notes.patient_summary
    assert re.search(r"\byou\b", summary, re.I)
    jargon = [
        "ideation",
        "suicid",
        "behavioral activation",
        "psychoeducation",
        "cbt",
        "dbt",
        "client",
        "severity",
        "risk",
    ]
    assert not [j for j in jargon if j in summary.lower()]
    assert "crisis line" in summary and "emergency room" in summary  # where to get help, said plainly
    # the clinician's note is third person and names the finding
    # grounded: no mood is stated without a mood word from the client, and the topic cites the flag's quote
    assert not notes.therapist_notes.startswith("Client presented as")
    assert notes.topic_evidence and notes.topic_evidence[0].evidence[0].quote.startswith("Honestly, sometimes")
    assert "suicidal ideation" in notes.therapist_notes and not re.search(r"\byou\b", notes.therapist_notes)


def test_analytics() -> None:
    segs, speakers = session()
    a = extract_notes(segs, speakers).analytics
    t = sum(s.end - s.start for s in segs if s.role == "therapist")
    c = sum(s.end - s.start for s in segs if s.role == "client")
    assert a["talk_share_therapist"] == pytest.approx(t / (t + c), abs=1e-3)
    assert a["talk_share_client"] == pytest.approx(c / (t + c), abs=1e-3)
    assert a["longest_client_monologue_s"] == pytest.approx(10.5)  # 19.5-30.0 is the longest client turn
    # therapist questions: how did / what kinds (open); would you like / how about / could I (closed)
    assert a["questions_total"] == 5
    assert a["open_questions"] == 2


def test_monologue_survives_a_backchannel() -> None:
    segs = [
        Segment(start=0, end=10, speaker="B", role="client", text="I went to work and it was awful."),
        Segment(start=10.2, end=10.8, speaker="A", role="therapist", text="Mm-hmm."),
        Segment(start=11, end=25, speaker="B", role="client", text="Then my manager called me in."),
    ]
    assert extract_notes(segs, []).analytics["longest_client_monologue_s"] == pytest.approx(25.0)


def test_roles_unknown_still_work_and_never_flag_therapist_questions() -> None:
    segs, speakers = session(roles=False)
    segs = [
        *segs,
        Segment(start=100, end=104, speaker="SPEAKER_00", text="Are you having thoughts of ending your life?"),
        Segment(start=105, end=108, speaker="SPEAKER_01", text="No, never."),
    ]
    notes = extract_notes(segs, speakers)
    assert notes.risk_flags == []
    assert [d.type for d in notes.documented_denials] == ["suicidal_ideation"]
    assert notes.analytics["talk_share_unknown"] == 1.0
    assert notes.analytics["longest_client_monologue_s"] is None
    assert notes.strategies and notes.action_items


def test_roles_from_speaker_list_when_segments_lack_them() -> None:
    segs, speakers = session(roles=True)
    bare = [s.model_copy(update={"role": None}) for s in segs]
    assert extract_notes(bare, speakers).analytics == extract_notes(segs, speakers).analytics


def test_empty_transcript() -> None:
    notes = extract_notes([], [])
    assert notes.risk_flags == [] and notes.strategies == [] and notes.action_items == []
    assert notes.patient_summary and "no risk indicators" in notes.therapist_notes.lower()


def test_deterministic() -> None:
    segs, speakers = session()
    assert extract_notes(segs, speakers) == extract_notes(segs, speakers)
