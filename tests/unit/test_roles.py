"""Therapist / client roles from conversation and voiceprints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.harness import CORPUS
from therapybridge.document import UNKNOWN_SPEAKER, Segment, Speaker, SpeakerTurn
from therapybridge.domain.roles import assign_roles

A, B, C = "SPEAKER_00", "SPEAKER_01", "SPEAKER_02"

THERAPIST_LINES = [
    "Good to see you again. How has the week been?",
    "It sounds like the mornings are the hardest part. What goes through your mind then?",
    "Let's try something for this week. Would you be willing to keep a short diary?",
    "That makes sense. How did your body feel when that happened?",
]
CLIENT_LINES = [
    "Honestly, pretty rough. I keep waking up at four and I can't get back to sleep.",
    "I feel like my boss is watching everything I do, and I just freeze.",
    "I guess I could try that. I've been avoiding my friends lately.",
    "I don't know, I was tired all the time.",
]


def dialogue(first: str, second: str, first_lines: list[str], second_lines: list[str]) -> list[Segment]:
    segs, t = [], 0.0
    for a, b in zip(first_lines, second_lines, strict=True):
        for spk, text in ((first, a), (second, b)):
            segs.append(Segment(start=t, end=t + 3.0, speaker=spk, text=text))
            t += 3.5
    return segs


def speakers(*labels: str) -> list[Speaker]:
    return [Speaker(label=lab, talk_seconds=10.0) for lab in labels]


def roles(out: list[Speaker]) -> dict[str, str | None]:
    return {s.label: s.role for s in out}


def test_questions_and_reflections_make_the_therapist() -> None:
    segs = dialogue(A, B, THERAPIST_LINES, CLIENT_LINES)
    assert roles(assign_roles(segs, speakers(A, B))) == {A: "therapist", B: "client"}


def test_therapist_label_need_not_come_first() -> None:
    segs = dialogue(A, B, CLIENT_LINES, THERAPIST_LINES)
    assert roles(assign_roles(segs, speakers(A, B))) == {A: "client", B: "therapist"}


def test_no_evidence_leaves_roles_unset() -> None:
    lines = ["The weather was fine.", "The train was late.", "We had soup.", "It was Tuesday."]
    segs = dialogue(A, B, lines, list(reversed(lines)))
    # Who opens and closes is weak evidence on its own: below the margin nothing is claimed.
    out = assign_roles(segs, speakers(A, B))
    assert roles(out) == {A: None, B: None}


def test_one_speaker_has_no_roles() -> None:
    segs = [Segment(start=0, end=3, speaker=A, text=THERAPIST_LINES[0])]
    assert roles(assign_roles(segs, speakers(A))) == {A: None}


def test_three_speakers_one_therapist_two_clients() -> None:
    segs = dialogue(B, A, THERAPIST_LINES, CLIENT_LINES)
    segs += [Segment(start=100 + i * 4, end=103 + i * 4, speaker=C, text=t) for i, t in enumerate(CLIENT_LINES)]
    assert roles(assign_roles(segs, speakers(A, B, C))) == {A: "client", B: "therapist", C: "client"}


def test_unknown_speaker_never_gets_a_role() -> None:
    segs = dialogue(A, B, THERAPIST_LINES, CLIENT_LINES)
    segs.append(Segment(start=99, end=100, speaker=UNKNOWN_SPEAKER, text="How are you?"))
    out = roles(assign_roles(segs, speakers(A, B, UNKNOWN_SPEAKER)))
    assert out[UNKNOWN_SPEAKER] is None and out[A] == "therapist"


def test_voiceprint_outweighs_conversation() -> None:
    segs = dialogue(A, B, THERAPIST_LINES, CLIENT_LINES)
    out = assign_roles(segs, speakers(A, B), voiceprint_match={A: 0.55, B: 0.93})
    assert roles(out) == {A: "client", B: "therapist"}


def test_ambiguous_voiceprint_falls_back_to_conversation() -> None:
    segs = dialogue(A, B, THERAPIST_LINES, CLIENT_LINES)
    for match in ({A: 0.62, B: 0.60}, {A: 0.91, B: 0.90}):  # nobody matches / both match
        assert roles(assign_roles(segs, speakers(A, B), voiceprint_match=match)) == {A: "therapist", B: "client"}


@pytest.mark.parametrize("session", ["d01", "d02", "d03", "d04", "d06", "d08", "d09", "d11", "d12"])
def test_roles_on_corpus_scripts(session: str) -> None:
    """Every synthetic session's script text (speaker labels anonymised) yields the true roles."""
    path = CORPUS / "synthetic" / f"{session}.json"
    if not path.exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    turns = json.loads(path.read_text())["turns"]
    label = {"therapist": B, "client": A}  # the therapist is not SPEAKER_00 here
    segs = [Segment(start=t["start"], end=t["end"], speaker=label[t["speaker"]], text=t["text"]) for t in turns]
    assert roles(assign_roles(segs, speakers(A, B))) == {A: "client", B: "therapist"}


@pytest.mark.slow
def test_voiceprint_matches_the_same_voice_across_sessions(tmp_path: Path) -> None:
    """The therapist (voice slt) enrols in d01; in d02 the voiceprint finds her label, in d03 (where
    slt is the client and joe the therapist) the similarities still follow the voice, not the role."""
    from therapybridge.speech.audio import to_wav16k
    from therapybridge.speech.diarization.embedded import EmbeddedDiarizer
    from therapybridge.speech.voiceprint import embed_voice, match_labels

    if not (CORPUS / "synthetic" / "d01.flac").exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    encoder = EmbeddedDiarizer().encoder

    def session(name: str) -> tuple[Path, list[SpeakerTurn], list[Segment]]:
        wav = tmp_path / f"{name}.wav"
        to_wav16k(CORPUS / "synthetic" / f"{name}.flac", wav)
        data = json.loads((CORPUS / "synthetic" / f"{name}.json").read_text())
        voice = data["voices"]
        turns = [SpeakerTurn(start=t["start"], end=t["end"], speaker=voice[t["speaker"]]) for t in data["turns"]]
        segs = [Segment(start=t.start, end=t.end, speaker=t.speaker, text="Okay.") for t in turns]
        return wav, turns, segs

    wav, turns, _ = session("d01")
    voiceprint = embed_voice(wav, turns, "slt", encoder, max_seconds=30)
    assert voiceprint.shape == (256,)
    wav, turns, segs = session("d02")
    match = match_labels(wav, turns, voiceprint, encoder, max_seconds=30)
    assert match["slt"] >= 0.9 and match["joe"] <= 0.8
    out = assign_roles(segs, [Speaker(label="joe"), Speaker(label="slt")], voiceprint_match=match)
    assert roles(out) == {"slt": "therapist", "joe": "client"}
    wav, turns, _ = session("d03")
    match = match_labels(wav, turns, voiceprint, encoder, max_seconds=30)
    assert match["slt"] >= 0.9 and match["joe"] <= 0.8
