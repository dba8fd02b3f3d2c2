"""Validation and conversion with the real ffmpeg: every bad input gets a clear message."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.support.harness import CORPUS
from therapybridge.speech.audio import InvalidAudio, load_wav16k, to_wav16k, validate, wav_duration

JFK = CORPUS / "real" / "jfk.flac"


def _mp3(tmp_path: Path) -> Path:
    out = tmp_path / "jfk.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(JFK), "-b:a", "64k", str(out)], check=True)
    return out


def test_valid_flac_and_mp3(tmp_path: Path) -> None:
    assert validate(JFK).duration_seconds == pytest.approx(11.0, abs=0.1)
    assert validate(_mp3(tmp_path)).duration_seconds == pytest.approx(11.0, abs=0.2)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"hello", "unsupported file type '.txt'"),
        ("session.wav", b"", "the file is empty"),
        ("session.mp3", b"<html>not audio</html>" * 10, "not mp3 audio"),
        ("session.flac", b"RIFF\x00\x00\x00\x00WAVEfmt ", "not flac audio"),
    ],
)
def test_rejects_with_clear_message(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(InvalidAudio, match=message):
        validate(f)


def test_truncated_mp3_is_rejected(tmp_path: Path) -> None:
    full = _mp3(tmp_path).read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(full[: len(full) // 3] + b"\x00" * 5000)
    with pytest.raises(InvalidAudio, match=r"corrupt or truncated|cannot read"):
        validate(cut)


def test_original_name_decides_the_type(tmp_path: Path) -> None:
    f = tmp_path / "upload.bin"
    shutil.copyfile(JFK, f)
    assert validate(f, original_name="visit.flac").duration_seconds > 10
    with pytest.raises(InvalidAudio, match="unsupported"):
        validate(f, original_name="visit.exe")


def test_too_long_is_rejected() -> None:
    with pytest.raises(InvalidAudio, match="limit"):
        validate(JFK, max_duration_s=5.0)


def test_conversion_keeps_the_timeline_and_normalises(tmp_path: Path) -> None:
    quiet = tmp_path / "quiet.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(JFK), "-af", "volume=0.05", "-ar", "44100", "-ac", "2",
                    str(quiet)], check=True)  # fmt: skip
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    to_wav16k(JFK, a)
    to_wav16k(quiet, b)
    assert wav_duration(a) == pytest.approx(wav_duration(b), abs=0.01) == pytest.approx(11.0, abs=0.1)
    xa, xb = load_wav16k(a), load_wav16k(b)
    # Same loudness after normalisation although one input was 26 dB quieter.
    rms_a, rms_b = float(np.sqrt(np.mean(xa**2))), float(np.sqrt(np.mean(xb**2)))
    assert rms_b == pytest.approx(rms_a, rel=0.1)
    # No shift in time: the envelopes line up.
    assert np.corrcoef(np.abs(xa[:160000]), np.abs(xb[:160000]))[0, 1] > 0.9
    # Slices read without decoding the rest.
    assert len(load_wav16k(a, 2.0, 3.5)) == 24000


def test_cleanly_cut_vbr_mp3_is_truncated(tmp_path: Path) -> None:
    vbr = tmp_path / "vbr.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(JFK), "-q:a", "4", str(vbr)], check=True)
    data = vbr.read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidAudio, match="truncated"):
        validate(cut)
