"""Audio files: validation (extension, magic bytes, ffprobe) and conversion with Debian's ffmpeg.

ffmpeg-python builds the command lines; the binaries are Debian's `ffmpeg`/`ffprobe`. Conversion keeps
the original timeline (no trimming), so every time computed downstream is a time in the upload.
"""

from __future__ import annotations

import json
import re
import wave
from dataclasses import dataclass
from pathlib import Path

import ffmpeg
import numpy as np

SAMPLE_RATE = 16000
ALLOWED_EXTENSIONS = frozenset({".wav", ".mp3", ".m4a", ".mp4", ".flac", ".ogg", ".oga", ".opus", ".webm", ".aac"})


# Options must precede the inputs: ffmpeg ignores trailing ones (ffmpeg-python's global_args appends).
FFMPEG = ["ffmpeg", "-hide_banner", "-nostdin"]


class InvalidAudio(ValueError):
    """The file is not audio we can process. Never worth retrying."""


@dataclass(frozen=True)
class AudioInfo:
    duration_seconds: float
    format_name: str
    codec: str
    sample_rate: int
    channels: int


def _magic_matches(ext: str, head: bytes) -> bool:
    """True when the first bytes look like the container the extension promises."""
    if ext == ".wav":
        return head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE"
    if ext == ".flac":
        return head[:4] == b"fLaC" or head[:3] == b"ID3"
    if ext in (".ogg", ".oga", ".opus"):
        return head[:4] == b"OggS"
    if ext == ".webm":
        return head[:4] == b"\x1a\x45\xdf\xa3"
    if ext in (".m4a", ".mp4"):
        return head[4:8] == b"ftyp"
    if ext in (".mp3", ".aac"):
        # ID3 tag, or an MPEG/ADTS frame sync (11 or 12 set bits).
        return head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0)
    return False


def check_file_type(path: Path, original_name: str | None = None) -> None:
    """Cheap checks before ffprobe: extension allowed, not empty, magic bytes agree."""
    name = original_name or path.name
    ext = Path(name).suffix.lower()
    if ext not in ALLOWED_EXTENSIONS:
        allowed = ", ".join(sorted(e.lstrip(".") for e in ALLOWED_EXTENSIONS))
        raise InvalidAudio(f"unsupported file type '{ext or name}': expected one of {allowed}")
    if not path.is_file():
        raise InvalidAudio("file not found")
    if path.stat().st_size == 0:
        raise InvalidAudio("the file is empty")
    with path.open("rb") as fh:
        head = fh.read(16)
    if not _magic_matches(ext, head):
        raise InvalidAudio(f"the file's content is not {ext.lstrip('.')} audio (wrong or damaged header)")


def probe(path: Path, max_duration_s: float | None = None) -> AudioInfo:
    """ffprobe the file and make sure it has a decodable audio stream with a positive duration.

    Also decodes the whole stream once with ffmpeg (fast, no output) so that truncated or corrupt
    files fail here rather than halfway through transcription.
    """
    try:
        info = ffmpeg.probe(str(path))
    except ffmpeg.Error as exc:
        raise InvalidAudio(f"cannot read audio: {_ffmpeg_reason(exc)}") from None
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise InvalidAudio("the file has no audio stream")
    stream = streams[0]
    duration = float(info.get("format", {}).get("duration") or stream.get("duration") or 0.0)
    if duration <= 0.0:
        raise InvalidAudio("the audio has zero duration")
    if max_duration_s is not None and duration > max_duration_s:
        raise InvalidAudio(f"the recording is {duration / 3600:.1f} h long; the limit is {max_duration_s / 3600:.1f} h")
    _decode_check(path, duration)
    return AudioInfo(
        duration_seconds=duration,
        format_name=str(info.get("format", {}).get("format_name", "")),
        codec=str(stream.get("codec_name", "")),
        sample_rate=int(stream.get("sample_rate") or 0),
        channels=int(stream.get("channels") or 0),
    )


def _decode_check(path: Path, declared_s: float) -> None:
    """Decode everything to null. Corruption shows up as decoder errors; truncation as less audio
    than the header declares (VBR MP3s and most containers carry the full length up front)."""
    try:
        out, err = (
            ffmpeg.input(str(path))
            .output("-", format="null")
            .run(
                cmd=[*FFMPEG, "-v", "error", "-xerror", "-progress", "pipe:1"], capture_stdout=True, capture_stderr=True
            )
        )
    except ffmpeg.Error as exc:
        raise InvalidAudio(f"the audio is corrupt or truncated: {_ffmpeg_reason(exc)}") from None
    if err and err.strip():
        raise InvalidAudio(f"the audio is corrupt or truncated: {_first_line(err)}")
    times = re.findall(rb"out_time_us=(\d+)", out or b"")
    decoded_s = int(times[-1]) / 1e6 if times else declared_s
    if decoded_s < declared_s - max(1.0, 0.02 * declared_s):
        raise InvalidAudio(
            f"the audio is truncated: the header declares {declared_s:.1f} s but only {decoded_s:.1f} s decode"
        )


def validate(path: Path, original_name: str | None = None, max_duration_s: float | None = None) -> AudioInfo:
    """The one validation the API and the workflow share."""
    check_file_type(path, original_name)
    return probe(path, max_duration_s)


def _first_line(stderr: bytes) -> str:
    lines = [ln for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    # ffmpeg prefixes lines with the input path; the path is ours, not the user's data, but trim it.
    text = lines[-1] if lines else "unknown error"
    return re.sub(r"^.*?: ", "", text, count=1)[:200]


def _ffmpeg_reason(exc: ffmpeg.Error) -> str:
    return _first_line(exc.stderr or b"")


def measure_loudness(path: Path) -> dict[str, float] | None:
    """First pass of EBU R128 loudness normalisation: measure integrated loudness, range, peak."""
    _, err = (
        ffmpeg.input(str(path))
        .output("-", format="null", af="loudnorm=I=-23:LRA=11:TP=-2:print_format=json")
        .run(cmd=[*FFMPEG, "-nostats"], capture_stdout=True, capture_stderr=True)
    )
    match = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", err.decode("utf-8", "replace"), re.S)
    if not match:
        return None
    values = json.loads(match.group(0))
    try:
        measured = {k: float(values[k]) for k in ("input_i", "input_lra", "input_tp", "input_thresh", "target_offset")}
    except (KeyError, ValueError):
        return None  # silence measures as -inf: nothing to normalise
    if not all(np.isfinite(v) for v in measured.values()):
        return None
    return measured


def to_wav16k(src: Path, dst: Path) -> None:
    """Any supported input → 16 kHz mono 16-bit PCM WAV, loudness normalised (EBU R128, -23 LUFS).

    Two-pass linear loudnorm: a single gain, so no dynamics processing and no shift in time.
    """
    m = measure_loudness(src)
    filters = []
    if m is not None:
        filters.append(
            "loudnorm=I=-23:LRA=11:TP=-2:linear=true:"
            f"measured_I={m['input_i']}:measured_LRA={m['input_lra']}:measured_TP={m['input_tp']}:"
            f"measured_thresh={m['input_thresh']}:offset={m['target_offset']}"
        )
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".part.wav")
    out_args: dict[str, object] = {"ac": 1, "ar": SAMPLE_RATE, "acodec": "pcm_s16le", "format": "wav"}
    if filters:
        out_args["af"] = ",".join(filters)
    try:
        ffmpeg.input(str(src)).output(str(tmp), **out_args).overwrite_output().run(
            cmd=[*FFMPEG, "-v", "error"], capture_stdout=True, capture_stderr=True
        )
    except ffmpeg.Error as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidAudio(f"cannot convert audio: {_ffmpeg_reason(exc)}") from None
    tmp.replace(dst)  # atomic: a retried attempt never sees half a file


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())


def load_wav16k(path: Path, start: float = 0.0, end: float | None = None) -> np.ndarray:
    """Read (a slice of) a 16 kHz mono PCM WAV as float32 in [-1, 1] without decoding the rest."""
    with wave.open(str(path), "rb") as w:
        if w.getframerate() != SAMPLE_RATE or w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise ValueError("expected 16 kHz mono 16-bit PCM")
        total = w.getnframes()
        first = max(0, round(start * SAMPLE_RATE))
        last = total if end is None else min(total, round(end * SAMPLE_RATE))
        w.setpos(min(first, total))
        raw = w.readframes(max(0, last - first))
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
