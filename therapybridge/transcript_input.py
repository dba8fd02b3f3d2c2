"""Reading a transcript from JSON for `therapybridge notes`: a session document, or any JSON object with
`transcript_segments` (start, end, speaker, role, text) and optionally `speakers`. Errors say what is
wrong and where, never what the transcript says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from therapybridge.document import Segment, Speaker

MAX_BYTES = 50 * 1024 * 1024  # a 4-hour session's document is a few MB


class TranscriptInputError(ValueError):
    pass


def _where(err: ValidationError, field: str) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    return f"{field}{'.' + loc if loc else ''}: {first['msg']}"


def read_transcript(path: Path) -> tuple[dict[str, Any], list[Segment], list[Speaker]]:
    """The parsed document (to write back with notes), its segments and speakers."""
    if not path.is_file():
        raise TranscriptInputError(f"{path}: no such file")
    if path.stat().st_size > MAX_BYTES:
        raise TranscriptInputError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MB; not a transcript")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise TranscriptInputError(
            f"{path}: not UTF-8 text (is it an audio file? use `therapybridge process`)"
        ) from None
    except json.JSONDecodeError as exc:
        raise TranscriptInputError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(doc, dict):
        raise TranscriptInputError(f"{path}: expected a JSON object with transcript_segments")
    raw = doc.get("transcript_segments")
    if not isinstance(raw, list):
        raise TranscriptInputError(
            f"{path}: no transcript_segments list (a session document or {{'transcript_segments': [...]}})"
        )
    if not raw:
        raise TranscriptInputError(f"{path}: transcript_segments is empty; nothing to take notes from")
    segments: list[Segment] = []
    for i, item in enumerate(raw):
        try:
            seg = Segment.model_validate(item)
        except ValidationError as exc:
            raise TranscriptInputError(f"{path}: {_where(exc, f'transcript_segments[{i}]')}") from None
        if seg.end < seg.start:
            raise TranscriptInputError(f"{path}: transcript_segments[{i}]: end is before start")
        segments.append(seg)
    speakers: list[Speaker] = []
    for i, item in enumerate(doc.get("speakers") or []):
        try:
            speakers.append(Speaker.model_validate(item))
        except ValidationError as exc:
            raise TranscriptInputError(f"{path}: {_where(exc, f'speakers[{i}]')}") from None
    return doc, segments, speakers
