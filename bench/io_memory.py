"""Peak memory of the io worker's heavy stages on a long session, one stage after another.

    python -m bench.io_memory [--minutes 60] [--audio-cache DIR]

Runs in one process, as the io worker would (its modules imported first): ffmpeg conversion (the
child process counts), Silero VAD, then the notes stage's skill labels (the sentence encoder, loaded
here) and notes on a transcript of the same length (bench.notes_speed's). Prints each stage's peak
RSS of the process tree, sampled every 0.2 s, and what stays resident after it; the budget of the io
worker is 500 MB. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.corpus_concat import CORPUS, build_session
from bench.notes_speed import long_session
from bench.throughput.measure import RssSampler


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.io_memory", description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--audio-cache", type=Path, default=Path(tempfile.gettempdir()) / "tb-bench-audio")
    args = ap.parse_args(argv)

    import psutil

    import therapybridge.worker_io.__main__  # noqa: F401  (the io worker's imports, so the baseline is its own)
    from therapybridge.behaviour_labels import label_segments
    from therapybridge.domain.notes import extract_notes
    from therapybridge.speech.audio import to_wav16k
    from therapybridge.speech.vad import speech_regions

    me = psutil.Process()
    mib = 2**20
    print(f"io worker modules imported: {me.memory_info().rss / mib:.0f} MiB")
    session = build_session(args.minutes, args.audio_cache)
    segments, speakers = long_session(CORPUS, args.minutes)

    def stage(name: str, run: Callable[[], object]) -> None:
        t = time.perf_counter()
        with RssSampler({name: os.getpid()}) as rss:
            run()
            time.sleep(0.3)  # one more sample after the stage
        print(
            f"{name:<28} peak {rss.peak[name] / mib:6.0f} MiB   resident after {me.memory_info().rss / mib:6.0f} MiB"
            f"   {time.perf_counter() - t:6.1f} s"
        )

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "session.wav"
        stage("convert (ffmpeg)", lambda: to_wav16k(session.audio, wav, 4 * 3600))
        stage("VAD (Silero)", lambda: speech_regions(wav))
    stage("skill labels + notes", lambda: extract_notes(label_segments(segments, speakers), speakers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
