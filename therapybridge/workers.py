"""Running a Temporal worker until SIGINT/SIGTERM, then shutting down gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal

from temporalio.worker import Worker

log = logging.getLogger("therapybridge.workers")


async def run_until_signal(worker: Worker, name: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        log.info("worker started", extra={"worker": name, "task_queue": worker.task_queue})
        await stop.wait()
        log.info("worker stopping", extra={"worker": name})
