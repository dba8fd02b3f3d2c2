"""Running a Temporal worker until SIGINT/SIGTERM, then shutting down gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta
from typing import Any

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker

from therapybridge.settings import Settings

log = logging.getLogger("therapybridge.workers")

# The SDK sends an activity's heartbeats at most every 0.8 x its heartbeat timeout (24 s with ours), and
# a worker learns that an activity was cancelled only in a heartbeat's answer: send at least every 5 s
# (the activities' keep-alive period), so a cancelled session's work stops within seconds.
HEARTBEAT_THROTTLE: dict[str, Any] = {
    "max_heartbeat_throttle_interval": timedelta(seconds=5),
    "default_heartbeat_throttle_interval": timedelta(seconds=5),
}


def metrics_runtime(settings: Settings) -> Runtime | None:
    """The SDK runtime that serves this worker's Prometheus metrics on WORKER_METRICS_BIND (None: off,
    the default runtime). Its labels are namespace, task queue, workflow and activity type: no PHI.
    Durations in seconds, the Prometheus convention (e.g. temporal_activity_schedule_to_start_latency)."""
    if not settings.worker_metrics_bind:
        return None
    prometheus = PrometheusConfig(bind_address=settings.worker_metrics_bind, durations_as_seconds=True)
    return Runtime(telemetry=TelemetryConfig(metrics=prometheus))


async def run_until_signal(worker: Worker, name: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        log.info("worker started", extra={"worker": name, "task_queue": worker.task_queue})
        await stop.wait()
        log.info("worker stopping", extra={"worker": name})
