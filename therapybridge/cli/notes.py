"""`therapybridge notes TRANSCRIPT.json`: notes and risk flags for a transcript alone, no audio and no workflow."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from therapybridge import notes_engine
from therapybridge.cli.render import render_notes
from therapybridge.notes_engine import Provider
from therapybridge.settings import get_settings
from therapybridge.transcript_input import TranscriptInputError, read_transcript


def notes_command(src: Path, out: Path | None, provider: Provider | None) -> int:
    """`therapybridge notes IN.json`: notes for a transcript alone, no audio and no workflow."""
    try:
        doc, segments, speakers = read_transcript(src)
    except TranscriptInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cfg = notes_engine.notes_config(get_settings(), provider)
    notes, labelled = asyncio.run(notes_engine.extract_labelled(segments, speakers, cfg))
    if out is None:
        print(render_notes(notes))
        return 0
    for raw, seg in zip(doc["transcript_segments"], labelled, strict=True):  # read_transcript keeps the order
        raw["behaviour"] = seg.behaviour
    doc["extracted_notes"] = notes.model_dump(mode="json")
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(out)
    print(f"wrote {out}")
    return 0
