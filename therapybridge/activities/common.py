"""What every activity shares: settings, the blob store, heartbeating around blocking work."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from therapybridge.blobs import BlobStore
from therapybridge.settings import get_settings

T = TypeVar("T")
HEARTBEAT_EVERY_S = 5.0
log = logging.getLogger("therapybridge.activities")


@lru_cache
def blobs() -> BlobStore:
    return BlobStore(get_settings().blob_dir)


def non_retryable(message: str, error_type: str) -> ApplicationError:
    return ApplicationError(message, type=error_type, non_retryable=True)


async def run_blocking(fn: Callable[..., T], *args: Any, progress: Callable[[], float] | None = None) -> T:
    """Run blocking work in a thread and heartbeat while it runs (cancellation arrives that way)."""
    task = asyncio.ensure_future(asyncio.to_thread(fn, *args))
    while True:
        done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY_S)
        if done:
            return task.result()
        activity.heartbeat({"progress": progress() if progress else 0.0})


class Heartbeater:
    """For sync activities: heartbeat with progress, at most every second, and stop on cancel."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, fraction: float, **extra: Any) -> None:
        now = time.monotonic()
        if now - self._last >= 1.0 or fraction >= 1.0:
            activity.heartbeat({"progress": round(fraction, 4), **extra})
            self._last = now
        if activity.is_cancelled():
            raise activity_cancelled()


def activity_cancelled() -> BaseException:
    from temporalio.exceptions import CancelledError

    return CancelledError("activity cancelled")


def log_stage(stage: str, session_id: str, seconds: float, **fields: Any) -> None:
    """Structured, PHI-free: ids, counts and timings only."""
    log.info("stage done", extra={"stage": stage, "session_id": session_id, "seconds": round(seconds, 3), **fields})
