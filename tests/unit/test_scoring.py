"""bench.scoring: the metrics the quality benchmark and the regression floors rely on."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.scoring import (
    best_mapping,
    der,
    normalise_text,
    parse_rttm,
    role_accuracy,
    speakers_in,
    wer,
    word_speaker_accuracy,
)
from therapybridge.document import Segment, Word

REF = [(0.0, 4.0, "therapist"), (4.5, 9.0, "client"), (9.5, 12.0, "therapist")]


def seg(speaker: str, role: str | None, *words: tuple[float, float]) -> Segment:
    ws = [Word(word=" w", start=s, end=e, speaker=speaker) for s, e in words]
    return Segment(start=ws[0].start, end=ws[-1].end, speaker=speaker, role=role, text="w " * len(ws), words=ws)


def test_text_normalisation_and_wer() -> None:
    assert normalise_text("Well-being?  I'm FINE, thanks.") == "well being im fine thanks"
    assert wer("Hello, how are you?", "hello how are you") == 0.0
    assert wer("one two three four", "one two four") == pytest.approx(0.25)


def test_der_is_label_free_and_counts_errors() -> None:
    hyp = [(s, e, {"therapist": "A", "client": "B"}[k]) for s, e, k in REF]
    assert der(REF, hyp, (0.0, 12.0)) == pytest.approx(0.0)
    # Everything one speaker: the client's 4.5 s (minus collars) become confusion.
    one = [(0.0, 12.0, "A")]
    assert 0.35 < der(REF, one, (0.0, 12.0)) < 0.5
    # Only the annotated span counts.
    assert der(REF, [*hyp, (20.0, 30.0, "A")], (0.0, 12.0)) == pytest.approx(0.0)


def test_word_speaker_accuracy_uses_the_best_mapping() -> None:
    segs = [seg("S1", None, (0.5, 1.0), (1.0, 1.5)), seg("S0", None, (5.0, 5.5), (6.0, 6.5)),
            seg("S1", None, (10.0, 10.5)), seg("S0", None, (11.0, 11.5))]  # last word wrong
    assert best_mapping([w for s in segs for w in s.words], REF) == {"S0": "client", "S1": "therapist"}
    assert word_speaker_accuracy(segs, REF) == pytest.approx(5 / 6)


def test_word_in_a_pause_counts_for_the_nearest_turn_and_overlap_for_both() -> None:
    ref = [(0.0, 4.0, "therapist"), (3.8, 4.3, "client"), (6.0, 9.0, "client")]
    segs = [seg("A", None, (1.0, 1.2)), seg("B", None, (4.05, 4.1)), seg("A", None, (3.85, 3.95)),
            seg("B", None, (4.9, 5.1))]
    # (3.85-3.95) is inside both turns: either label is right; 5.0 is nearest to the client's 4.3.
    assert word_speaker_accuracy(segs, ref) == pytest.approx(1.0)


def test_role_accuracy_counts_missing_roles_as_wrong() -> None:
    segs = [seg("A", "therapist", (0.5, 1.0)), seg("B", "client", (5.0, 5.5)), seg("A", None, (10.0, 10.5)),
            seg("B", "therapist", (6.0, 6.5))]
    assert role_accuracy(segs, REF) == pytest.approx(0.5)


def test_rttm_parsing_and_speaker_count(tmp_path: Path) -> None:
    rttm = tmp_path / "x.rttm"
    rttm.write_text(
        "SPEAKER f1 1 0.500 1.000 <NA> <NA> alice <NA> <NA>\n"
        "SPEAKER f1 1 2.000 0.250 <NA> <NA> bob <NA> <NA>\n"
        "SPEAKER f2 1 40.0 2.0 <NA> <NA> carol <NA> <NA>\n"
    )
    turns = parse_rttm(rttm)
    assert turns["f1"] == [(0.5, 1.5, "alice"), (2.0, 2.25, "bob")]
    assert speakers_in(turns["f1"], (0.0, 30.0)) == 2
    assert speakers_in(turns["f2"], (0.0, 30.0)) == 0
