"""Who-said-what quality over a corpus with truth: WER, DER, word-speaker and role accuracy.

    python -m bench.quality CORPUS_DIR [--out report.md] [--diarizer baseline|embedded|oracle]
                                       [--files d01,d03] [--cache DIR]
                                       [--hints none,true] [--asr-models tiny,base]

Runs the functions the activities call: to_wav16k → speech_regions → plan_windows → Transcriber per
window → stitch → Diarizer → attribute (merge + talk time + assign_roles). Recordings with truth:
`<id>.json` scripts (synthetic sessions, whole file scored) and RTTM files for the others (the real
AMI excerpts, scored on 0–30 s only). `--cache` keeps converted audio, VAD and ASR output between
runs (ASR seconds shown are then those of the run that filled the cache). VAD output is keyed by the
VAD settings and ASR output by the model and the speech regions, so changing the diarizer re-runs
only the diarizer.

Per file and as a mean: DER on the diarizer's turns and on the transcript's segments; the turns'
JER and their DER split into missed speech, false alarm and speaker confusion (shares of the scored
reference speech); the speaker count found/true; and the speech detection (VAD regions against the
reference speech, no collar) as miss and false-alarm rates. `--hints true` gives the diarizer the
reference speaker count (`num_speakers`), `none` lets it count; `--asr-models` runs each ASR_MODEL
value. Every combination lands in one summary table.

`--diarizer oracle` hands the merge the reference turns instead of a diarizer's: the best DER on
transcript segments that attributing these ASR words can reach (words the ASR missed or mistimed
stay errors).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.quality.corpus import find_recordings
from bench.quality.pipeline import Pipeline, evaluate
from bench.quality.report import format_report
from bench.quality.results import FileResult


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.split("\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--out", type=Path, help="also write the markdown report here")
    ap.add_argument("--diarizer", choices=("embedded", "baseline", "oracle"), default="embedded")
    ap.add_argument("--files", help="comma-separated recording ids (default: all with truth)")
    ap.add_argument("--cache", type=Path, help="keep converted audio, VAD and ASR output here between runs")
    ap.add_argument(
        "--hints",
        default="none",
        help="comma-separated: none (the diarizer counts), true "
        "(the reference speaker count as num_speakers); default none",
    )
    ap.add_argument(
        "--asr-models", default="", help="comma-separated ASR_MODEL values to compare (default: the configured one)"
    )
    args = ap.parse_args(argv)
    only = set(args.files.split(",")) if args.files else None
    hints = [h.strip() for h in args.hints.split(",") if h.strip()]
    if not hints or any(h not in ("none", "true") for h in hints):
        ap.error("--hints takes none and/or true")
    models: list[str | None] = [m.strip() for m in args.asr_models.split(",") if m.strip()] or [None]
    recordings = find_recordings(args.corpus, only)
    if not recordings:
        print(f"no recordings with truth under {args.corpus}", file=sys.stderr)
        return 2
    results: list[FileResult] = []
    with tempfile.TemporaryDirectory(prefix="tb-quality-") as tmp:
        work = args.cache or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for model in models:
            pipeline = Pipeline(args.diarizer, args.cache, asr_model=model)
            for hint in hints:
                results.extend(evaluate(recordings, pipeline, work, hint))
    report = format_report(results, args.diarizer)
    print(report)
    if args.out:
        args.out.write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
