"""Transcribing a window on the session's stored VAD regions (no second Silero pass)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.scoring import wer
from tests.support.harness import CORPUS
from therapybridge.settings import Settings
from therapybridge.speech.asr.factory import get_transcriber, whisper_config
from therapybridge.speech.asr.gaps import unheard
from therapybridge.speech.audio import load_wav16k, to_wav16k, wav_duration
from therapybridge.speech.vad import regions_within, speech_regions


def test_stored_regions_give_the_same_words_on_the_session_timeline(tmp_path: Path) -> None:
    wav = tmp_path / "jfk.wav"
    to_wav16k(CORPUS / "real" / "jfk.flac", wav)
    duration, regions = wav_duration(wav), speech_regions(wav)
    transcriber = get_transcriber(whisper_config(Settings()))
    audio = load_wav16k(wav)
    # As if this recording were a window starting 100 s into a session.
    own_vad, _ = transcriber.transcribe(audio, offset=100.0)
    stored, _ = transcriber.transcribe(audio, offset=100.0, speech=regions_within(regions, 0.0, duration))
    text = " ".join(s.text for s in stored)
    assert wer(" ".join(s.text for s in own_vad), text) <= 0.05
    assert "ask not what your country can do for you" in text.lower()
    words = [w for s in stored for w in s.words]
    # Times are back on the session's timeline, inside (padded) speech, not on the concatenated audio's.
    assert all(100.0 <= w.start <= w.end <= 100.0 + duration + 0.01 for w in words)
    assert all(any(a - 0.5 <= w.start - 100.0 <= b + 0.5 for a, b in regions) for w in words)


def test_a_window_without_speech_gives_no_segments(tmp_path: Path) -> None:
    wav = tmp_path / "jfk.wav"
    to_wav16k(CORPUS / "real" / "jfk.flac", wav)
    transcriber = get_transcriber(whisper_config(Settings()))
    assert transcriber.transcribe(load_wav16k(wav), speech=[])[0] == []


def test_unheard_speech_is_what_no_word_touches() -> None:
    speech = [(10.0, 20.0), (30.0, 31.0)]
    assert unheard(speech, []) == [(10.0, 20.0)]  # the 1 s region is a backchannel, not a lost turn
    assert unheard(speech, [(12.0, 13.0), (16.5, 17.0)]) == [(10.0, 12.0), (13.0, 16.5), (17.0, 20.0)]
    assert unheard(speech, [(9.0, 11.0), (12.5, 19.0)]) == []  # gaps under 2 s between words
    assert unheard([(0.0, 5.0)], [(4.0, 9.0), (0.5, 2.5)]) == []  # unsorted, overlapping the edge


def test_a_turn_the_first_pass_skips_is_decoded_on_its_own(tmp_path: Path) -> None:
    """d11's second window: after the client's "maybe a seven" and the therapist's overlapping
    "Mm-hmm", Whisper's first pass jumps from 125.4 s to 131.6 s over the therapist's turn (the
    speech regions hold it); the stretch is decoded again by itself."""
    wav = tmp_path / "d11.wav"
    to_wav16k(CORPUS / "synthetic" / "d11.flac", wav)
    regions = speech_regions(wav)
    start, end = 122.98, wav_duration(wav)
    segments, _ = get_transcriber(whisper_config(Settings())).transcribe(
        load_wav16k(wav, start, end), offset=start, speech=regions_within(regions, start, end)
    )
    turn = [s for s in segments if 126.0 <= s.start < 131.7]
    assert "a good rule is to wait until" in " ".join(s.text for s in turn).lower()
    assert [s.start for s in segments] == sorted(s.start for s in segments)


def test_the_second_pass_adds_nothing_on_silence() -> None:
    """Whisper writes "You" on digital silence; the second pass over the rest of a silent region must
    not write it again (its segments need both of Whisper's speech tests)."""
    silence = np.zeros(6 * 16000, dtype=np.float32)
    segments, _ = get_transcriber(whisper_config(Settings())).transcribe(silence, speech=[(0.5, 5.5)])
    assert len(segments) <= 1  # the first pass's own "You" (no-speech 0.75), not one per stretch
