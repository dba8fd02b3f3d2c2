"""Throughput of a long session: the pipeline next to the transcription model alone.

    python -m bench.throughput                      # 60-minute session: (a), (b), (c), overhead
    python -m bench.throughput --minutes 3 --sessions 4 --cases c
    python -m bench.throughput --scale-out          # (c) with 1 then 2 gpu workers, 1 thread each
    python -m bench.throughput --asr-model tiny.en  # every case with the fast bundled model (default: base)
    python -m bench.throughput --cluster --cases c --scale-out  # (c) and the scale-out on the real server

Builds a session by concatenating corpus sessions (bench.corpus_concat, truth times shifted) and runs,
one after another in this process, on the same audio:

(a) plain faster-whisper on the file, same model and decoding settings, all cores (the floor);
(b) the pipeline's stages forced sequential: the activity functions themselves, run one after another
    in this process without Temporal (validate → preprocess → every window → diarize → merge → notes),
    each stage with the whole machine (CTranslate2 on every core);
(c) the pipeline as shipped: a private Temporal dev server, the io worker and `--gpu-workers` gpu
    workers as separate processes (settings as deployed unless `--worker-env` says otherwise).

Before (c) a 10-second recording (corpus real/jfk.flac) runs through the same workers: once to warm
them up, then `--overhead-runs` times; orchestration overhead = wall time minus the time during which
at least one activity was executing (from the workflow history; parallel activities are counted
once). During (c) the RSS of every worker process (with its children, e.g. ffmpeg) is sampled.

With `--cluster`, (c), the overhead runs and the scale-out run on the production topology of the
cluster tests instead (bench/throughput/cluster.py): the real Temporal server on PostgreSQL, built by
`make setup`, and compose's worker processes; measured the same way.

Timings are wall-clock: on a shared machine, check the load figures printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.corpus_concat import build_session
from bench.stages import private_environment
from bench.throughput.measure import load_line, load_truth
from bench.throughput.report import asr_model_line
from bench.throughput.runner import run_all
from therapybridge.speech.asr.faster_whisper import cpu_count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="session length (corpus sessions concatenated)")
    ap.add_argument("--sessions", type=int, default=1, help="concurrent sessions in (c)")
    ap.add_argument("--cases", default="a,b,c", help="which of a,b,c to run")
    ap.add_argument("--gpu-workers", type=int, default=1, help="gpu worker processes in (c)")
    ap.add_argument("--worker-env", action="append", default=[], metavar="KEY=VALUE", help="worker settings in (c)")
    ap.add_argument("--overhead-runs", type=int, default=3, help="10-second runs before (c); -1 to skip")
    ap.add_argument("--scale-out", action="store_true", help="(c) with 1 then 2 gpu workers, 1 thread each")
    ap.add_argument("--audio-cache", type=Path, default=Path(tempfile.gettempdir()) / "tb-concat")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--asr-model", help="ASR_MODEL for (a), (b) and the workers of (c): base (default), tiny.en, …")
    ap.add_argument("--cluster", action="store_true", help="(c) and the scale-out on the real Temporal server")
    args = ap.parse_args(argv)
    if args.asr_model:
        os.environ["ASR_MODEL"] = args.asr_model  # before any settings are read; workers inherit it

    tmp = private_environment("tb-throughput-")
    session = build_session(args.minutes, args.audio_cache)
    truth = load_truth(session.truth)
    print(
        f"session {session.audio.name}: {session.duration:.1f} s from {len(session.pieces)} corpus sessions; "
        f"{cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M:%S')}; {load_line()}\n"
        f"ASR model: {asr_model_line()}; Temporal: "
        + ("the real server on PostgreSQL (the cluster harness)" if args.cluster else "a private dev server"),
        flush=True,
    )
    try:
        asyncio.run(run_all(args, session.audio, truth, session.duration))
    finally:
        print(f"end: {load_line()}")
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
