"""Transcribing a window on the session's stored VAD regions (no second Silero pass)."""

from __future__ import annotations

from pathlib import Path

from bench.scoring import wer
from tests.support.harness import CORPUS
from therapybridge.settings import Settings
from therapybridge.speech.asr.factory import get_transcriber, whisper_config
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
