from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from temporalio.worker import Worker

from therapybridge.activities.diarize import diarize
from therapybridge.activities.transcribe import transcribe_window
from therapybridge.logs import setup_logging
from therapybridge.settings import get_settings
from therapybridge.speech.asr import AsrConfig, get_transcriber
from therapybridge.speech.diarizer import get_diarizer
from therapybridge.temporal import connect
from therapybridge.workers import run_until_signal

log = logging.getLogger("therapybridge.worker_gpu")


async def main() -> None:
    settings = get_settings()
    setup_logging(settings, "worker_gpu")
    # Load models before polling so the first task does not pay for it; a broken model setting still
    # lets the worker start (its activities then fail with a clear, non-retryable error).
    for name, load in (
        ("asr", lambda: get_transcriber(AsrConfig.from_settings(settings))),
        ("diarizer", lambda: get_diarizer(settings)),
    ):
        try:
            await asyncio.to_thread(load)
        except Exception as exc:
            log.error("model failed to load", extra={"model": name, "error_type": type(exc).__name__})
    client = await connect(settings)
    # One transcription and one diarization at a time by default: both share this process's models.
    slots = max(1, settings.gpu_worker_concurrency) + 1
    worker = Worker(
        client,
        task_queue=settings.gpu_task_queue,
        activities=[transcribe_window, diarize],
        activity_executor=ThreadPoolExecutor(slots),
        max_concurrent_activities=slots,
    )
    await run_until_signal(worker, "worker_gpu")


if __name__ == "__main__":
    asyncio.run(main())
