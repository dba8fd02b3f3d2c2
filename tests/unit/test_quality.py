"""The "not a therapy recording?" rule (domain/quality.py): the cases of issue 16 item 7."""

from __future__ import annotations

from therapybridge.document import Segment, Speaker, Word
from therapybridge.domain.quality import quality_warnings


def _segments(n_segments: int, words_each: int, seconds_each: float, p: float = 0.9) -> list[Segment]:
    out, t = [], 0.0
    for i in range(n_segments):
        spk = f"SPEAKER_0{i % 2}"
        step = seconds_each / words_each
        words = [
            Word(start=t + k * step, end=t + (k + 1) * step, word=" w", speaker=spk, probability=p)
            for k in range(words_each)
        ]
        out.append(Segment(start=t, end=t + seconds_each, speaker=spk, text="w " * words_each, words=words))
        t += seconds_each
    return out


TWO = [
    Speaker(label="SPEAKER_00", role="therapist", talk_seconds=300),
    Speaker(label="SPEAKER_01", role="client", talk_seconds=400),
]


def codes(speakers: list[Speaker], segments: list[Segment], diarization: str = "ok") -> set[str]:
    return {w.code for w in quality_warnings(speakers, segments, diarization)}


def test_a_two_person_session_of_some_length_has_no_warning() -> None:
    assert codes(TWO, _segments(40, 25, 15.0)) == set()


def test_a_30_second_meeting_with_four_voices() -> None:
    four = [Speaker(label=f"SPEAKER_0{i}", talk_seconds=7.0) for i in range(4)]
    found = quality_warnings(four, _segments(6, 12, 5.0), "ok")
    assert {w.code for w in found} == {"speakers", "little_speech"}
    assert "4 voices" in found[0].message


def test_one_voice_and_unavailable_diarization() -> None:
    assert "speakers" in codes(TWO[:1], _segments(40, 25, 15.0))
    assert codes(TWO, _segments(40, 25, 15.0), diarization="unavailable") == {"speakers"}
    # a speaker listed with no talk time is no voice
    assert codes([*TWO, Speaker(label="SPEAKER_02", talk_seconds=0.0)], _segments(40, 25, 15.0)) == set()


def test_low_asr_confidence() -> None:
    assert codes(TWO, _segments(40, 25, 15.0, p=0.4)) == {"low_asr_confidence"}
    assert codes(TWO, _segments(40, 25, 15.0, p=0.7)) == set()


def test_little_speech_by_time_or_words() -> None:
    assert codes(TWO, _segments(4, 10, 10.0)) == {"little_speech"}  # 40 s, 40 words
    assert codes(TWO, _segments(10, 5, 20.0)) == {"little_speech"}  # 200 s but 50 words
