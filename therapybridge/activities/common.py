"""What every activity shares: settings, the blob store, heartbeating around blocking work."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from therapybridge.blobs import BlobStore
from therapybridge.settings import get_settings

T = TypeVar("T")
HEARTBEAT_EVERY_S = 5.0
log = logging.getLogger("therapybridge.activities")


def blobs() -> BlobStore:
    """The blob store of the current settings (built per call: it is a path, and a cache of its own would
    outlive a settings change)."""
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
    """For sync activities: heartbeat progress and checkpoint details, and stop on cancel.

    Calling it records the progress (sent at most every second) and raises if the activity was
    cancelled. Used as a context manager it also keeps a thread that re-sends the latest details every
    HEARTBEAT_EVERY_S while the activity runs: a model call that takes long between two progress
    callbacks must not look like a dead worker (only a dead process stops heartbeating), and the
    worker learns of a cancellation only in a heartbeat's answer.
    """

    def __init__(self, every_s: float = HEARTBEAT_EVERY_S, **details: Any) -> None:
        self._last = 0.0
        self._every = every_s
        self._details: dict[str, Any] = {"progress": 0.0, **details}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, fraction: float, **extra: Any) -> None:
        with self._lock:
            self._details.update(progress=round(fraction, 4), **extra)
            details = dict(self._details)
        now = time.monotonic()
        if now - self._last >= 1.0 or fraction >= 1.0:
            activity.heartbeat(details)
            self._last = now
        if activity.is_cancelled():
            raise activity_cancelled()

    def __enter__(self) -> Heartbeater:
        # The activity context lives in a context variable: the thread runs in a copy of it.
        ctx = contextvars.copy_context()
        self._thread = threading.Thread(target=ctx.run, args=(self._keep_alive,), name="heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def _keep_alive(self) -> None:
        while not self._stop.wait(self._every):
            with self._lock:
                details = dict(self._details)
            try:
                activity.heartbeat(details)
            except Exception as exc:  # the worker is shutting down; the activity ends on its own
                log.debug("keep-alive heartbeat failed", extra={"error_type": type(exc).__name__})
                return


def activity_cancelled() -> BaseException:
    from temporalio.exceptions import CancelledError

    return CancelledError("activity cancelled")


def log_stage(stage: str, session_id: str, seconds: float, **fields: Any) -> None:
    """Structured, PHI-free: ids, counts and timings only."""
    log.info("stage done", extra={"stage": stage, "session_id": session_id, "seconds": round(seconds, 3), **fields})
