"""The recordings of a corpus that have truth: scripted sessions (`<id>.json`) and RTTM-annotated ones."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bench.scoring import Reference, clip_turns, parse_rttm, synthetic_reference

AUDIO_EXTS = (".flac", ".wav", ".mp3", ".ogg", ".m4a")
REAL_SCORED_S = 30.0  # the AMI excerpts are annotated on their first 30 s only


@dataclass
class Recording:
    audio: Path
    ref: Reference


def _audio_for(folder: Path, stem: str) -> Path | None:
    for ext in AUDIO_EXTS:
        p = folder / f"{stem}{ext}"
        if p.is_file():
            return p
    return None


def find_recordings(corpus: Path, only: set[str] | None = None) -> list[Recording]:
    """Every recording under `corpus` that has truth, scripts first."""
    out: list[Recording] = []
    scripted: set[str] = set()
    for js in sorted(corpus.rglob("*.json")):
        audio = _audio_for(js.parent, js.stem)
        if audio is None or "turns" not in json.loads(js.read_text(encoding="utf-8")):
            continue
        scripted.add(js.stem)
        if only is None or js.stem in only:
            out.append(Recording(audio, synthetic_reference(js)))
    for rttm in sorted(corpus.rglob("*.rttm")):
        for file_id, turns in parse_rttm(rttm).items():
            audio = _audio_for(rttm.parent, file_id)
            if audio is None or file_id in scripted or (only is not None and file_id not in only):
                continue
            uem = (0.0, REAL_SCORED_S)
            out.append(Recording(audio, Reference(file_id, clip_turns(turns, *uem), uem)))
    return out
