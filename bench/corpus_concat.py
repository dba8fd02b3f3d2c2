"""Long sessions for performance work: corpus sessions concatenated, truth times shifted.

    python -m bench.corpus_concat --minutes 60 --out /tmp/tb-concat     # prints the paths it wrote

The synthetic sessions (../shared/corpus/synthetic, about 2.5-3 min each) are appended in id order,
cycling, with `gap_s` of silence between them, until the target length is reached; the last one is
cut inside a pause between turns so every reference turn stays whole. Written beside each other:

- `<name>.flac`: 16 kHz mono FLAC (a compressed upload, like the corpus files);
- `<name>.json`: the corpus script format (`turns[{speaker, text, start, end}]`, `duration`), so
  `bench.scoring.synthetic_reference` reads it; extra keys `pieces` (which file sits where) and per
  turn `role` and `source`;
- `<name>.rttm`: the reference turns.

Reference speakers are the *voices* (slt, joe, kal), not the roles: across the concatenation the same
role is played by different voices (d03 swaps them) and DER scores who spoke, so one voice must be
one reference speaker. The role stays in each turn's `role`.

Files are reused when they already exist with the same parameters (the JSON records them).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
SAMPLE_RATE = 16000
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ConcatSession:
    audio: Path
    truth: Path  # JSON script (synthetic_reference reads it)
    rttm: Path
    duration: float
    pieces: list[dict[str, object]]


def _read_pcm(path: Path) -> np.ndarray:
    """Decode any corpus file to 16 kHz mono int16 with ffmpeg."""
    raw = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", str(path),
         "-f", "s16le", "-ac", "1", "-ar", str(SAMPLE_RATE), "-"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype="<i2")


def _write_flac(pcm: np.ndarray, path: Path) -> None:
    tmp = path.with_suffix(".part.flac")
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "s16le", "-ac", "1",
         "-ar", str(SAMPLE_RATE), "-i", "-", "-c:a", "flac", str(tmp)],
        input=pcm.astype("<i2").tobytes(), check=True, capture_output=True,
    )  # fmt: skip
    tmp.replace(path)


def _cut_point(turns: list[dict[str, object]], limit: float) -> tuple[list[dict[str, object]], float]:
    """The turns that end by `limit`, and where to cut the audio: in the pause after the last one
    (halfway to the next turn, at most 0.5 s after it) so no reference word is split."""
    kept = [t for t in turns if float(t["end"]) <= limit]  # type: ignore[arg-type]
    if not kept:
        kept = turns[:1]
    last_end = max(float(t["end"]) for t in kept)  # type: ignore[arg-type]
    later = [float(t["start"]) for t in turns if float(t["start"]) > last_end]  # type: ignore[arg-type]
    nxt = min(later) if later else last_end + 1.0
    return kept, last_end + min(0.5, max(0.0, (nxt - last_end) / 2))


def build_session(
    minutes: float,
    out_dir: Path,
    corpus: Path = CORPUS,
    gap_s: float = 1.0,
    ids: list[str] | None = None,
    name: str | None = None,
) -> ConcatSession:
    """Concatenate synthetic corpus sessions to about `minutes` of audio (see the module doc)."""
    synthetic = corpus / "synthetic"
    ids = ids or sorted(p.stem for p in synthetic.glob("*.json"))
    if not ids:
        raise FileNotFoundError(f"no synthetic sessions under {synthetic}")
    target = minutes * 60.0
    name = name or f"concat-{minutes:g}min"
    out_dir.mkdir(parents=True, exist_ok=True)
    audio_path, truth_path, rttm_path = out_dir / f"{name}.flac", out_dir / f"{name}.json", out_dir / f"{name}.rttm"
    params = {"version": FORMAT_VERSION, "minutes": minutes, "gap_s": gap_s, "ids": ids, "corpus": str(corpus)}
    if audio_path.exists() and truth_path.exists() and rttm_path.exists():
        cached = json.loads(truth_path.read_text(encoding="utf-8"))
        if cached.get("params") == params:
            return ConcatSession(audio_path, truth_path, rttm_path, cached["duration"], cached["pieces"])

    parts: list[np.ndarray] = []
    turns: list[dict[str, object]] = []
    pieces: list[dict[str, object]] = []
    gap = np.zeros(round(gap_s * SAMPLE_RATE), dtype=np.int16)
    offset_samples = 0
    i = 0
    while offset_samples / SAMPLE_RATE < target - 1.0:
        sid = ids[i % len(ids)]
        i += 1
        script = json.loads((synthetic / f"{sid}.json").read_text(encoding="utf-8"))
        pcm = _read_pcm(synthetic / f"{sid}.flac")
        src_turns: list[dict[str, object]] = script["turns"]
        remaining = target - offset_samples / SAMPLE_RATE
        if len(pcm) / SAMPLE_RATE > remaining:  # the last piece: cut in a pause
            src_turns, cut = _cut_point(src_turns, remaining)
            pcm = pcm[: round(cut * SAMPLE_RATE)]
        if parts:
            parts.append(gap)
            offset_samples += len(gap)
        offset = offset_samples / SAMPLE_RATE
        voices: dict[str, str] = script.get("voices", {})
        for t in src_turns:
            role = str(t["speaker"])
            turns.append(
                {
                    "speaker": voices.get(role, role),
                    "role": role,
                    "text": t["text"],
                    "start": round(offset + float(t["start"]), 3),  # type: ignore[arg-type]
                    "end": round(offset + float(t["end"]), 3),  # type: ignore[arg-type]
                    "source": sid,
                }
            )
        pieces.append({"id": sid, "offset": round(offset, 3), "duration": round(len(pcm) / SAMPLE_RATE, 3)})
        parts.append(pcm)
        offset_samples += len(pcm)

    pcm_all = np.concatenate(parts)
    duration = round(len(pcm_all) / SAMPLE_RATE, 3)
    _write_flac(pcm_all, audio_path)
    rttm_path.write_text(
        "".join(
            f"SPEAKER {name} 1 {t['start']:.3f} {float(t['end']) - float(t['start']):.3f} "  # type: ignore[arg-type]
            f"<NA> <NA> {t['speaker']} <NA> <NA>\n"
            for t in turns
        ),
        encoding="utf-8",
    )
    truth_path.write_text(
        json.dumps({"id": name, "turns": turns, "duration": duration, "pieces": pieces, "params": params}, indent=1),
        encoding="utf-8",
    )
    return ConcatSession(audio_path, truth_path, rttm_path, duration, pieces)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Concatenate corpus sessions into one long session with shifted truth.")
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--gap", type=float, default=1.0, help="seconds of silence between sessions")
    ap.add_argument("--ids", default="", help="comma-separated corpus ids (default: all synthetic ones)")
    args = ap.parse_args(argv)
    s = build_session(args.minutes, args.out, args.corpus, args.gap, [x for x in args.ids.split(",") if x] or None)
    print(f"audio {s.audio}\ntruth {s.truth}\nrttm  {s.rttm}\nduration {s.duration:.1f} s, {len(s.pieces)} pieces")
    return 0


if __name__ == "__main__":
    sys.exit(main())
