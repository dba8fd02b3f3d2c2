"""Audio files: validation (extension, magic bytes, ffprobe) and conversion with Debian's ffmpeg.

ffmpeg-python builds the command lines; the binaries are Debian's `ffmpeg`/`ffprobe`. Conversion keeps
the original timeline (no trimming), so every time computed downstream is a time in the upload.
"""

from __future__ import annotations

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


# Decoding stops this far past the limit: enough to tell "over" from "exactly at" it.
_LIMIT_SLACK_S = 1.0


def _too_long(max_duration_s: float) -> InvalidAudio:
    return InvalidAudio(f"the recording is longer than the {max_duration_s / 3600:g} h limit")


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
        raise InvalidAudio(f"cannot read audio: {_ffmpeg_reason(exc, path)}") from None
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise InvalidAudio("the file has no audio stream")
    stream = streams[0]
    duration = float(info.get("format", {}).get("duration") or stream.get("duration") or 0.0)
    if duration <= 0.0:
        raise InvalidAudio("the audio has zero duration")
    if max_duration_s is not None and duration > max_duration_s:
        raise InvalidAudio(f"the recording is {duration / 3600:.1f} h long; the limit is {max_duration_s / 3600:.1f} h")
    # The header can lie (a FLAC's total_samples, a WAV's data size): the decoded length is the truth.
    decoded = _decode_check(path, duration, max_duration_s)
    return AudioInfo(
        duration_seconds=max(duration, decoded),
        format_name=str(info.get("format", {}).get("format_name", "")),
        codec=str(stream.get("codec_name", "")),
        sample_rate=int(stream.get("sample_rate") or 0),
        channels=int(stream.get("channels") or 0),
    )


def _decode_check(path: Path, declared_s: float, max_duration_s: float | None = None) -> float:
    """Decode everything to null (at most to just past the limit) and return the decoded length.
    Corruption shows up as decoder errors; truncation as less audio than the header declares (VBR
    MP3s and most containers carry the full length up front); a lying header as more than the limit."""
    limit = {} if max_duration_s is None else {"t": max_duration_s + _LIMIT_SLACK_S}
    try:
        out, err = (
            ffmpeg.input(str(path))
            .output("-", format="null", **limit)
            .run(
                cmd=[*FFMPEG, "-v", "error", "-xerror", "-progress", "pipe:1"], capture_stdout=True, capture_stderr=True
            )
        )
    except ffmpeg.Error as exc:
        raise InvalidAudio(f"the audio is corrupt or truncated: {_ffmpeg_reason(exc, path)}") from None
    if err and err.strip():
        raise InvalidAudio(f"the audio is corrupt or truncated: {_first_line(err, path)}")
    times = re.findall(rb"out_time_us=(\d+)", out or b"")
    decoded_s = int(times[-1]) / 1e6 if times else declared_s
    if max_duration_s is not None and decoded_s > max_duration_s:
        raise _too_long(max_duration_s)
    if decoded_s < declared_s - max(1.0, 0.02 * declared_s):
        raise InvalidAudio(
            f"the audio is truncated: the header declares {declared_s:.1f} s but only {decoded_s:.1f} s decode"
        )
    return decoded_s


def validate(path: Path, original_name: str | None = None, max_duration_s: float | None = None) -> AudioInfo:
    """The one validation the API and the workflow share."""
    check_file_type(path, original_name)
    return probe(path, max_duration_s)


def _first_line(stderr: bytes, path: Path | None = None) -> str:
    """ffmpeg's last error line, fit for a user: without the `[flac @ 0x55ab…]` context tag (a memory
    address), our file paths, or other addresses; short."""
    lines = [ln for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    text = lines[-1] if lines else "unknown error"
    if path is not None:
        text = text.replace(str(path), "")
    text = re.sub(r"\[[^\]]*\]\s*", "", text)
    text = re.sub(r"(?:^|\s)/\S*?:\s+", " ", text)  # "/data/blobs/…/upload.flac: End of file"
    text = re.sub(r"/\S+", "", text)
    text = re.sub(r"\b0x[0-9a-fA-F]+\b", "", text)
    text = re.sub(r"\s+", " ", text).strip(" :")
    return text[:120] or "unknown error"


def _ffmpeg_reason(exc: ffmpeg.Error, path: Path | None = None) -> str:
    return _first_line(exc.stderr or b"", path)


# EBU R128 targets (the loudnorm defaults the design names): integrated loudness, range, true-peak ceiling.
TARGET_I, TARGET_LRA, TARGET_TP = -23.0, 11.0, -2.0
_GAIN_BLOCK = 60 * SAMPLE_RATE  # the gain pass holds one minute of audio at a time (io worker RSS)


@dataclass(frozen=True)
class Loudness:
    """EBU R128 / ITU-R BS.1770 measurements of a whole recording (ffmpeg's `ebur128` scanner)."""

    integrated: float  # LUFS, gated
    lra: float  # LU
    true_peak: float  # dBTP (4x oversampled)
    threshold: float  # LUFS, relative gate


_SUMMARY = re.compile(
    r"Summary:.*?I:\s*(\S+) LUFS.*?Threshold:\s*(\S+) LUFS.*?LRA:\s*(\S+) LU.*?Peak:\s*(\S+) dBFS", re.S
)


def _parse_summary(stderr: bytes) -> Loudness | None:
    # The last summary: ffmpeg 5 prints an empty one for a scanner it discards while configuring.
    matches = list(_SUMMARY.finditer(stderr.decode("utf-8", "replace")))
    if not matches:
        return None
    match = matches[-1]
    try:
        i, thresh, lra, tp = (float(x) for x in match.groups())
    except ValueError:
        return None
    # Silence measures as the -70 LUFS absolute gate and a -inf peak: nothing to normalise.
    if not all(np.isfinite(v) for v in (i, thresh, lra, tp)) or i <= -70.0:
        return None
    return Loudness(integrated=i, lra=lra, true_peak=tp, threshold=thresh)


def normalisation_gain_db(m: Loudness | None) -> float:
    """One linear gain: to -23 LUFS integrated, lowered where needed to keep the true peak at -2 dBTP.

    This is loudnorm's linear mode. Where loudnorm would silently fall back to its dynamic mode
    (a gain that pushes the true peak over the ceiling, or a range over 11 LU) we stay linear: a
    time-varying gain and limiter would change the voices' relative levels, which the diarizer and
    ASR do not want, and cost 20x more CPU (loudnorm runs at 192 kHz).
    """
    if m is None:
        return 0.0
    return min(TARGET_I - m.integrated, TARGET_TP - m.true_peak)


def to_wav16k(src: Path, dst: Path, max_duration_s: float | None = None) -> None:
    """Any supported input → 16 kHz mono 16-bit PCM WAV, loudness normalised (EBU R128, -23 LUFS).

    One decode: ffmpeg converts to 16 kHz mono float samples and, on the same converted stream,
    runs its EBU R128 scanner (so the level and the true peak are those of the audio the models
    read, after the downmix); numpy then applies the single gain while converting to 16-bit, a
    minute at a time. A single gain, so no dynamics processing and no shift in time.

    With `max_duration_s`, ffmpeg stops decoding just past the limit (whatever the header declares),
    so a recording that lies about its length costs at most the limit's worth of disk and time.
    """
    dst.parent.mkdir(parents=True, exist_ok=True)
    raw, tmp = dst.with_suffix(".f32.part"), dst.with_suffix(".part.wav")
    limit = {} if max_duration_s is None else {"t": max_duration_s + _LIMIT_SLACK_S}
    mono = ffmpeg.input(str(src)).audio.filter(
        "aformat", sample_fmts="flt", sample_rates=SAMPLE_RATE, channel_layouts="mono"
    )
    split = mono.filter_multi_output("asplit", 2)
    meter = split[0].filter("ebur128", peak="true", framelog="verbose").output("-", format="null", **limit)
    pcm = split[1].output(str(raw), acodec="pcm_f32le", format="f32le", **limit)
    try:
        _, err = (
            ffmpeg.merge_outputs(meter, pcm)
            .overwrite_output()
            .run(cmd=[*FFMPEG, "-nostats"], capture_stdout=True, capture_stderr=True)
        )
        if max_duration_s is not None and raw.stat().st_size / 4 / SAMPLE_RATE > max_duration_s:
            raise _too_long(max_duration_s)
        _apply_gain(raw, tmp, 10 ** (normalisation_gain_db(_parse_summary(err)) / 20))
    except ffmpeg.Error as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidAudio(f"cannot convert audio: {_ffmpeg_reason(exc, src)}") from None
    finally:
        raw.unlink(missing_ok=True)
    tmp.replace(dst)  # atomic: a retried attempt never sees half a file


def _apply_gain(raw: Path, dst: Path, gain: float) -> None:
    """float32 samples × gain → 16-bit WAV, block by block (rounding and clipping as ffmpeg's)."""
    total = raw.stat().st_size // 4
    with wave.open(str(dst), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        for first in range(0, total, _GAIN_BLOCK):
            x = np.fromfile(raw, dtype="<f4", count=min(_GAIN_BLOCK, total - first), offset=first * 4)
            w.writeframes(np.clip(np.rint(x * (gain * 32768.0)), -32768, 32767).astype("<i2").tobytes())


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
