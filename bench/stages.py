"""Stage timings of one recording through the real workflow, next to plain faster-whisper.

    python -m bench.stages ../shared/corpus/synthetic/d01.flac

Starts a private Temporal dev server and both workers (in a temporary data directory), processes the
file through SessionWorkflow, prints each stage's time and the whole run's wall time, then times plain
faster-whisper on the same file with the same model and decoding settings.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tests.support.ports import free_port


def private_environment(prefix: str) -> Path:
    """Point this process (and the servers and workers it starts) at a fresh data directory, SQLite
    and a free port for a private Temporal dev server, so a benchmark never touches an installation."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update(
        {
            "THERAPYBRIDGE_DATA_DIR": str(tmp),
            "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
            "DATABASE_URL": "",
            "LOG_LEVEL": "WARNING",
        }
    )
    return tmp


async def pipeline_run(audio: Path) -> tuple[float, dict[str, float], float]:
    from therapybridge import db
    from therapybridge import messages as m
    from therapybridge.blobs import BlobStore
    from therapybridge.settings import get_settings
    from therapybridge.supervisor import Supervisor, queue_has_pollers
    from therapybridge.temporal import connect, start_session

    settings = get_settings()
    sup = Supervisor(settings)
    try:
        await sup.start_server_if_needed(headless=True)
        client = await connect(settings)
        await db.init_db()
        sup.start_workers()
        # Wait until both queues have pollers so worker start-up (model loading) is not timed.
        for q in (settings.io_task_queue, settings.gpu_task_queue):
            while not await queue_has_pollers(client, q, settings.temporal_namespace):
                await asyncio.sleep(0.5)
        await asyncio.sleep(2.0)
        sid = str(uuid.uuid4())
        key = BlobStore(settings.blob_dir).add_upload(sid, audio, audio.name)
        t0 = time.monotonic()
        handle = await start_session(client, settings, m.SessionInput(sid, key, audio.name))
        await handle.result()
        wall = time.monotonic() - t0
        doc = await db.get_session_document(sid)
        assert doc is not None
        return wall, doc.timings, doc.duration_seconds or 0.0
    finally:
        await sup.stop()


def plain_faster_whisper(audio: Path, threads: int = 0) -> tuple[float, float, str]:
    """faster-whisper alone on the file with the pipeline's model and decoding options (the floor
    every pipeline figure is compared with): (wall seconds, audio seconds, text). threads 0:
    CTranslate2's default."""
    from faster_whisper import WhisperModel

    from therapybridge.settings import get_settings
    from therapybridge.speech.asr.factory import whisper_config
    from therapybridge.speech.asr.faster_whisper import compute_type_for, transcribe_kwargs

    cfg = whisper_config(get_settings())
    model = WhisperModel(
        cfg.resolve().path,
        device=cfg.device,
        compute_type=compute_type_for(cfg.device, cfg.compute_type),
        cpu_threads=threads,
    )
    t0 = time.monotonic()
    segments, info = model.transcribe(str(audio), **transcribe_kwargs(cfg))
    text = " ".join(s.text.strip() for s in segments)  # a generator: decoding happens here
    return time.monotonic() - t0, info.duration, text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("audio", type=Path)
    args = ap.parse_args(argv)
    tmp = private_environment("tb-bench-")
    try:
        wall, timings, duration = asyncio.run(pipeline_run(args.audio.resolve()))
        fw_s, _, _ = plain_faster_whisper(args.audio.resolve())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"file: {args.audio.name}  duration: {duration:.1f} s  cores: {os.cpu_count()}")
    print(f"{'stage':<22}{'seconds':>10}")
    for k, v in timings.items():
        print(f"{k:<22}{v:>10.2f}")
    print(f"{'pipeline wall time':<22}{wall:>10.2f}   (RTF {wall / duration:.3f})")
    print(f"{'plain faster-whisper':<22}{fw_s:>10.2f}   (RTF {fw_s / duration:.3f})")
    print(f"pipeline / plain faster-whisper: {wall / fw_s:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
