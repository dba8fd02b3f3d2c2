"""Exports of a session document: TXT, SRT, WebVTT, JSON and RTTM. Pure functions of the document.

Speakers appear by role (Therapist / Client) when known, else by label. RTTM carries the diarizer's
own turns under the session id as the file id (never the upload's name, which can be patient data).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from therapybridge.document import Segment, SessionDocument
from therapybridge.domain.transcript import speaker_name

_WS = re.compile(r"\s+")
MIN_CUE_S = 0.001  # SRT/VTT cues must end after they start


def _one_line(text: str) -> str:
    """Cue text on one line: a blank line would end an SRT/VTT cue early."""
    return _WS.sub(" ", text).strip()


def _cues(doc: SessionDocument) -> list[tuple[float, float, Segment]]:
    cues = []
    for seg in sorted(doc.transcript_segments, key=lambda s: (s.start, s.end)):
        text = _one_line(seg.text)
        if not text:
            continue
        start = max(0.0, seg.start)
        cues.append((start, max(seg.end, start + MIN_CUE_S), seg))
    return cues


def _timestamp(t: float, sep: str) -> str:
    """hh:mm:ss and milliseconds, the cue times SRT (sep ',') and WebVTT (sep '.') require."""
    ms = round(max(0.0, t) * 1000)
    h, rest = divmod(ms, 3_600_000)
    mnt, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{mnt:02d}:{s:02d}{sep}{ms:03d}"


def to_txt(doc: SessionDocument) -> str:
    """One paragraph per segment: `[hh:mm:ss] Therapist: text`."""
    lines = [
        f"[{_timestamp(start, '.')[:8]}] {speaker_name(seg, doc.speakers)}: {_one_line(seg.text)}"
        for start, _, seg in _cues(doc)
    ]
    return "\n\n".join(lines) + ("\n" if lines else "")


def to_srt(doc: SessionDocument) -> str:
    blocks = [
        f"{i}\n{_timestamp(start, ',')} --> {_timestamp(end, ',')}\n"
        f"{speaker_name(seg, doc.speakers)}: {_one_line(seg.text)}\n"
        for i, (start, end, seg) in enumerate(_cues(doc), 1)
    ]
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(doc: SessionDocument) -> str:
    cues = [
        f"{_timestamp(start, '.')} --> {_timestamp(end, '.')}\n<v {_vtt_escape(speaker_name(seg, doc.speakers))}>"
        f"{_vtt_escape(_one_line(seg.text))}\n"
        for start, end, seg in _cues(doc)
    ]
    return "WEBVTT\n\n" + "\n".join(cues)


def to_json(doc: SessionDocument) -> str:
    return doc.model_dump_json(indent=2) + "\n"


def to_rttm(doc: SessionDocument) -> str:
    """NIST RTTM: `SPEAKER <file> 1 <onset> <duration> <NA> <NA> <speaker> <NA> <NA>` per turn."""
    lines = []
    for turn in sorted(doc.speaker_turns, key=lambda t: (t.start, t.end)):
        duration = turn.end - turn.start
        if duration <= 0:
            continue
        name = _WS.sub("_", turn.speaker.strip()) or "Unknown"
        lines.append(f"SPEAKER {doc.id} 1 {turn.start:.3f} {duration:.3f} <NA> <NA> {name} <NA> <NA>")
    return "\n".join(lines) + ("\n" if lines else "")


@dataclass(frozen=True)
class ExportFormat:
    render: Callable[[SessionDocument], str]
    media_type: str
    filename: str


FORMATS: dict[str, ExportFormat] = {
    "transcript.txt": ExportFormat(to_txt, "text/plain; charset=utf-8", "transcript.txt"),
    "transcript.srt": ExportFormat(to_srt, "application/x-subrip; charset=utf-8", "transcript.srt"),
    "transcript.vtt": ExportFormat(to_vtt, "text/vtt; charset=utf-8", "transcript.vtt"),
    "transcript.json": ExportFormat(to_json, "application/json", "session.json"),
    "diarization.rttm": ExportFormat(to_rttm, "text/plain; charset=utf-8", "diarization.rttm"),
}
