"""Words to speakers: boundary words, pauses, punctuation, backchannels, talk time."""

from __future__ import annotations

from itertools import pairwise

from therapybridge.document import UNKNOWN_SPEAKER, Segment, SpeakerTurn, Word
from therapybridge.domain.merge import SnapConfig, merge, speaker_for_word, talk_time

A, B = "SPEAKER_00", "SPEAKER_01"


def seg(*words: tuple[str, float, float]) -> Segment:
    ws = [Word(word=f" {w}", start=s, end=e) for w, s, e in words]
    return Segment(start=ws[0].start, end=ws[-1].end, text="".join(w.word for w in ws).strip(), words=ws)


def turn(s: float, e: float, spk: str) -> SpeakerTurn:
    return SpeakerTurn(start=s, end=e, speaker=spk)


def speakers_by_word(segments: list[Segment]) -> list[tuple[str, str]]:
    return [(w.word.strip(), w.speaker) for s in segments for w in s.words]


def test_no_turns_means_unknown_speaker() -> None:
    out = merge([seg(("Hello", 0.0, 0.4), ("there.", 0.4, 0.8))], [])
    assert [s.speaker for s in out] == [UNKNOWN_SPEAKER]
    assert all(w.speaker == UNKNOWN_SPEAKER for w in out[0].words)


def test_segment_is_split_at_a_clean_speaker_change() -> None:
    s = seg(("How", 0.0, 0.3), ("are", 0.3, 0.5), ("you?", 0.5, 0.9), ("Fine,", 1.4, 1.8), ("thanks.", 1.8, 2.2))
    out = merge([s], [turn(0.0, 1.0, A), turn(1.3, 2.3, B)])
    assert [(x.speaker, x.text) for x in out] == [(A, "How are you?"), (B, "Fine, thanks.")]
    assert (out[0].start, out[0].end, out[1].start, out[1].end) == (0.0, 1.0, 1.3, 2.3)  # the turns' spans
    assert out[1].words[0].start == 1.4 and out[0].words[-1].end == 0.9  # words keep their own times


def test_last_word_of_a_question_is_not_stuck_to_the_next_speaker() -> None:
    # The diarizer switches 0.4 s early, inside "going on?"; the question mark and the pause after
    # it say where the change really is.
    s1 = seg(("What's", 3.2, 3.5), ("going", 3.51, 3.75), ("on?", 3.75, 4.27))
    s2 = seg(("My", 4.45, 4.6), ("boss", 4.6, 4.9), ("again.", 4.9, 5.3))
    out = merge([s1, s2], [turn(0.3, 3.5, A), turn(3.5, 5.4, B)])
    assert speakers_by_word(out) == [("What's", A), ("going", A), ("on?", A), ("My", B), ("boss", B), ("again.", B)]


def test_first_word_of_a_turn_is_not_stuck_to_the_previous_speaker() -> None:
    # The diarizer switches late (after "And"); the sentence end before "And" and the pause win.
    s = seg(("the", 28.3, 28.5), ("next", 28.5, 28.7), ("day.", 28.7, 29.0), ("And", 29.3, 29.5),
            ("during", 29.5, 29.8), ("the", 29.8, 29.9), ("day?", 29.9, 30.2))
    out = merge([s], [turn(24.0, 29.6, A), turn(29.6, 30.4, B)])
    assert speakers_by_word(out)[2:4] == [("day.", A), ("And", B)]
    assert [x.speaker for x in out] == [A, B]


def test_change_does_not_move_far_from_the_diarizer_boundary() -> None:
    # A sentence end 2 s before the boundary is too far to be the change.
    s = seg(("One.", 0.0, 0.5), ("two", 1.0, 1.5), ("three", 1.5, 2.0), ("four", 2.0, 2.5), ("five", 2.5, 3.0))
    out = merge([s], [turn(0.0, 2.55, A), turn(2.55, 3.2, B)], snap=SnapConfig(max_shift_s=1.0))
    assert speakers_by_word(out)[-1] == ("five", B)
    assert speakers_by_word(out)[0] == ("One.", A)


def test_one_word_backchannel_keeps_its_own_speaker() -> None:
    s1 = seg(("I", 0.0, 0.2), ("keep", 0.2, 0.5), ("worrying", 0.5, 1.0), ("about", 1.0, 1.3), ("it.", 1.3, 1.6))
    s2 = seg(("Mm-hmm.", 1.9, 2.3))
    s3 = seg(("And", 2.7, 2.9), ("then", 2.9, 3.2), ("I", 3.2, 3.3), ("freeze.", 3.3, 3.8))
    turns = [turn(0.0, 1.7, A), turn(1.85, 2.35, B), turn(2.6, 3.9, A)]
    out = merge([s1, s2, s3], turns)
    assert [(x.speaker, x.text) for x in out] == [(A, "I keep worrying about it."), (B, "Mm-hmm."),
                                                   (A, "And then I freeze.")]


def test_word_stretched_over_a_pause_is_clamped_into_its_speakers_turn() -> None:
    # From d01: Whisper starts the answer's segment right after the question and stretches "I" over
    # the pause; the question mark and the new segment place the change before "I".
    s1 = seg(("after", 151.61, 151.95), ("breakfast?", 151.95, 152.37))
    s2 = seg(("I", 152.37, 152.89), ("can", 153.36, 153.62), ("do", 153.62, 153.78), ("that.", 153.78, 154.14))
    out = merge([s1, s2], [turn(142.5, 152.6, A), turn(153.15, 155.5, B)])
    words = [w for x in out for w in x.words]
    assert [w.speaker for w in words] == [A, A, B, B, B, B]
    assert words[2].start >= 153.15 - 1e-9  # "I" belongs to B, so it cannot start before B speaks


def test_words_outside_every_turn_take_the_nearest_speaker() -> None:
    out = merge([seg(("late", 10.0, 10.4))], [turn(0.0, 2.0, A), turn(8.0, 9.5, B)])
    assert out[0].speaker == B
    assert speaker_for_word(Word(word="x", start=1.0, end=1.2), [turn(0.0, 2.0, A)]) == A


def test_segments_without_words_get_the_covering_speaker() -> None:
    bare = Segment(start=5.0, end=6.0, text="(inaudible)")
    out = merge([bare], [turn(0.0, 4.0, A), turn(4.5, 7.0, B)])
    assert out[0].speaker == B


def test_talk_time_from_turns_then_words() -> None:
    turns = [turn(0.0, 2.0, A), turn(2.5, 3.0, B), turn(3.0, 4.0, A)]
    sp = {s.label: s.talk_seconds for s in talk_time(turns, [])}
    assert sp == {A: 3.0, B: 0.5}
    merged = merge([seg(("Hi.", 0.0, 1.0)), seg(("Hello.", 2.5, 3.0))], [])
    assert {s.label: s.talk_seconds for s in talk_time([], merged)} == {UNKNOWN_SPEAKER: 1.5}


def test_segment_is_cut_at_a_long_pause() -> None:
    s = seg(("So", 7.0, 7.2), ("yes.", 7.2, 7.5), ("Then", 15.5, 15.8), ("later.", 15.8, 16.2))
    out = merge([s], [turn(6.9, 11.7, A), turn(15.1, 16.5, A)])
    assert [(x.start, x.end, x.text) for x in out] == [(6.9, 11.7, "So yes."), (15.1, 16.5, "Then later.")]
    assert {x.speaker for x in out} == {A}


def test_segments_span_their_turn_and_never_overlap() -> None:
    """Segment times cover the speaker's turn (pauses and speech before the first recognised word
    included: DER on segments), split segments of one turn meet, and no segment reaches into the
    next speaker's segment, even where the turns overlap it."""
    a1 = seg(("Well,", 1.2, 1.5), ("I", 1.6, 1.7), ("think", 1.7, 2.0))
    a2 = seg(("that", 3.0, 3.3), ("helps.", 3.3, 3.8))
    b = seg(("Okay.", 4.1, 4.5))
    out = merge([a1, a2, b], [turn(0.5, 4.2, A), turn(3.9, 5.0, B)])
    assert [(x.speaker, x.start, x.end) for x in out] == [(A, 0.5, 3.0), (A, 3.0, 4.1), (B, 4.1, 5.0)]
    assert [w.start for x in out for w in x.words] == [1.2, 1.6, 1.7, 3.0, 3.3, 4.1]
    assert all(x.end <= y.start for x, y in pairwise(out))
