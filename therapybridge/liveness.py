"""Liveness files: how a worker under `therapybridge serve` shows that it still answers.

A process that stops answering (SIGSTOP, a wedged event loop, a hung host call holding the GIL) keeps
its pid and its Temporal connections, so "is it alive" and "does it poll" both say yes. The worker's
event loop touches a file every few seconds instead; the supervisor restarts a child whose file has not
been touched for CHILD_UNRESPONSIVE_S (therapybridge.supervisor). Beating from the event loop, not a
thread, means a blocked loop counts as not answering too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path

ENV = "THERAPYBRIDGE_LIVENESS_FILE"


def beat_interval(unresponsive_s: float) -> float:
    """Several beats per allowed silence, so one late beat never looks like a hang."""
    return max(0.2, min(5.0, unresponsive_s / 6))


def touch(path: Path) -> None:
    path.touch()
    os.utime(path)


async def _beat(path: Path, every_s: float) -> None:
    while True:
        with contextlib.suppress(OSError):  # a full or vanished disk must not kill the worker
            touch(path)
        await asyncio.sleep(every_s)


def start(unresponsive_s: float) -> asyncio.Task[None] | None:
    """Beat into $THERAPYBRIDGE_LIVENESS_FILE if the supervisor set one (nothing otherwise)."""
    target = os.environ.get(ENV)
    if not target:
        return None
    return asyncio.create_task(_beat(Path(target), beat_interval(unresponsive_s)), name="liveness")


def silent_s(path: Path, since: float, now: float | None = None) -> float:
    """Seconds since the last beat, counting from `since` (the start, as wall-clock time) when there
    has been none since then: a starting child gets the same allowance."""
    now = time.time() if now is None else now
    try:
        last = max(path.stat().st_mtime, since)
    except OSError:
        last = since
    return max(0.0, now - last)
