"""Notes and risk quality on the synthetic corpus.

    python -m bench.notes CORPUS_DIR [--truth-text] [--cache out/notes_bench] [--refresh]

By default the notes run on the transcripts the pipeline really produces: faster-whisper (ASR) on the
16 kHz audio, the diarizer, merge and role assignment. ASR output and diarizer turns are cached under
`--cache` (gitignored `out/`), so reruns only redo the notes. `--truth-text` runs on the scripts'
exact turns instead (speaker = role, as the CI test does).

Scoring (per file and overall): bench/notes/score.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench.notes.inputs import corpus_files, pipeline_inputs, truth_inputs
from bench.notes.score import Score, score_notes, total
from therapybridge.document import Speaker
from therapybridge.domain.notes import extract_notes

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = REPO / "out" / "notes_bench"


def _pct(a: int, b: int) -> str:
    return "-" if b == 0 else f"{100.0 * a / b:.0f}%"


def _row(s: Score) -> str:
    return (
        f"{s.file:<8}{f'{s.risk_found}/{s.risk_expected}':>7}{s.false_flags:>7}{f'{s.denials_flagged}/{s.denials}':>10}"
        f"{f'{s.strategies_found}/{s.strategies_expected}':>12}{f'{s.status_correct}/{s.strategies_found}':>9}"
        f"{f'{s.actions_found}/{s.actions_expected}':>10}"
    )


def print_table(scores: list[Score], title: str) -> None:
    print(title)
    hdr = f"{'file':<8}{'risk':>7}{'false':>7}{'denials':>10}{'strategies':>12}{'status':>9}{'actions':>10}"
    print(hdr)
    print("-" * len(hdr))
    for s in scores:
        print(_row(s))
    t = total(scores)
    print("-" * len(hdr))
    print(_row(t))
    print(
        f"risk recall {_pct(t.risk_found, t.risk_expected)}, false flags {t.false_flags}, "
        f"denials flagged {t.denials_flagged}/{t.denials}, strategy recall "
        f"{_pct(t.strategies_found, t.strategies_expected)} "
        f"(status right {_pct(t.status_correct, t.strategies_found)}),"
        f" action-item recall {_pct(t.actions_found, t.actions_expected)}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path, help="corpus folder (or its synthetic/ subfolder)")
    ap.add_argument("--truth-text", action="store_true", help="run on the scripts' exact text instead of ASR")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where ASR/diarizer output is cached")
    ap.add_argument("--refresh", action="store_true", help="recompute cached ASR and diarizer output")
    ap.add_argument("--verbose", "-v", action="store_true", help="list missed items (no transcript text)")
    ap.add_argument(
        "--no-roles",
        action="store_true",
        help="drop speakers and roles (diarization unavailable): every segment Unknown with role None",
    )
    args = ap.parse_args(argv)

    files = corpus_files(args.corpus)
    if not files:
        print(f"no scripts with 'expected' under {args.corpus}", file=sys.stderr)
        return 2
    scores: list[Score] = []
    sources: set[str] = set()
    notes_time = 0.0
    for path in files:
        script = json.loads(path.read_text())
        fid = path.stem
        if args.truth_text:
            segs, speakers = truth_inputs(script)
            sources.add("truth text")
        else:
            segs, speakers, src = pipeline_inputs(fid, path.parent, args.cache, args.refresh)
            sources.add(src)
        if args.no_roles:
            segs = [x.model_copy(update={"speaker": "Unknown", "role": None}) for x in segs]
            speakers = [Speaker(label="Unknown", talk_seconds=sum(x.end - x.start for x in segs))]
            sources.add("no roles")
        t0 = time.perf_counter()
        notes = extract_notes(segs, speakers)
        notes_time += time.perf_counter() - t0
        s = score_notes(fid, notes, script["expected"])
        scores.append(s)
        if args.verbose and s.missed:
            print(f"  {fid}: missed {', '.join(s.missed)}")
    print_table(scores, f"notes on {', '.join(sorted(sources))} ({len(files)} files, extract {notes_time:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
