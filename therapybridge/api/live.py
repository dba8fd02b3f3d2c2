"""Live progress of sessions, shared by the WebSocket and SSE streams.

One poller per watched session per gateway process, however many clients watch it: it reads the
session row (final states, deletion) and the workflow's progress query (which adds the running
activity's heartbeat percent), and publishes a snapshot whenever something changed. Progress never
goes backwards. The final snapshot comes from the database row, after the workflow's save activity
wrote it, so a client that reads the session after the final message sees the same outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, get_args

from temporalio.client import WorkflowExecutionStatus, WorkflowQueryFailedError
from temporalio.service import RPCError

from therapybridge import messages as m
from therapybridge.api.crud import load_row, record_outcome
from therapybridge.api.deps import TemporalConnection, TemporalUnavailable
from therapybridge.api.runs import CLOSED_OUTCOMES, is_not_found
from therapybridge.db import SessionRecord
from therapybridge.document import FINAL_STATUSES, Status
from therapybridge.domain.progress import Measured, elapsed_since, estimate_left
from therapybridge.domain.stalls import Stall, waiting_text
from therapybridge.settings import Settings
from therapybridge.temporal import query_progress, workflow_id

log = logging.getLogger("therapybridge.api.live")

STATUS_ORDER = get_args(Status)  # the contract's order: queued … processed, failed, cancelled
_RANK = {s: i for i, s in enumerate(STATUS_ORDER)}
QUERY_TIMEOUT_S = 10.0
# A workflow that has ended (or vanished) without its save writing the row is given this long before
# the gateway records the outcome itself; otherwise the session would read "queued" forever.
RECONCILE_GRACE_S = 10.0


@dataclass(frozen=True)
class Snapshot:
    session_id: str
    status: str
    progress: int
    message: str
    updated_at: str | None
    estimated_time_remaining: float | None
    error: str | None
    # Added: the session's work has waited for a worker making no progress since `waiting_since` (ISO
    # time; domain/stalls.py); the page says so instead of a countdown. `waiting_for` names the kind of
    # worker ("transcription worker", ...).
    waiting_for: str | None = None
    waiting_since: str | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def key(self) -> tuple[int, int]:
        """Orders snapshots of one run: (percent, stage); SSE event ids are this key."""
        return self.progress, _RANK.get(self.status, 0)

    @property
    def event_id(self) -> str:
        return f"{self.progress}.{_RANK.get(self.status, 0)}"

    def same_state(self, other: Snapshot | None) -> bool:
        return other is not None and (self.status, self.progress, self.message, self.error, self.waiting_since) == (
            other.status,
            other.progress,
            other.message,
            other.error,
            other.waiting_since,
        )

    def as_message(self) -> dict[str, Any]:
        return {"type": "progress", **asdict(self), "final": self.final}


def parse_event_id(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    try:
        percent, _, rank = value.partition(".")
        return int(percent), int(rank or 0)
    except ValueError:
        return None


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).isoformat()


def final_message(row: SessionRecord) -> str:
    if row.status == "processed":
        if (row.document or {}).get("diarization") == "unavailable":
            return "processed; speaker diarization unavailable"
        return "processed"
    if row.status == "cancelled":
        return "cancelled"
    return row.error or "processing failed"


def snapshot_from_row(row: SessionRecord) -> Snapshot:
    final = row.status in FINAL_STATUSES
    return Snapshot(
        session_id=row.id,
        status=row.status,
        progress=m.DONE if final else row.progress,
        message=final_message(row) if final else "waiting for a worker to start",
        updated_at=_iso(row.updated_at),
        estimated_time_remaining=0.0 if final else None,
        error=row.error if row.status == "failed" else None,
    )


def snapshot_from_progress(p: m.Progress, now: datetime | None = None) -> Snapshot:
    now = now or datetime.now(UTC)
    eta = p.estimated_time_remaining
    if eta is None:
        # From the measured transcription rate only (domain/progress.py): no number beats a wrong one.
        eta = estimate_left(
            Measured(p.status, elapsed_since(p.transcribe_started_at, now), p.audio_seconds_total, p.audio_seconds_done)
        )
    return Snapshot(
        session_id=p.session_id,
        status=p.status,
        progress=max(0, min(m.DONE, p.progress)),
        message=p.message,
        updated_at=p.updated_at,
        estimated_time_remaining=eta,
        error=p.error,
    )


def with_stall(snap: Snapshot, stall: Stall | None) -> Snapshot:
    """While no worker takes the session's work, say since when instead of a countdown."""
    if stall is None or snap.final:
        return snap
    return replace(
        snap,
        message=waiting_text(stall),
        estimated_time_remaining=None,
        waiting_for=f"{stall.kind} worker",
        waiting_since=stall.since.isoformat(),
    )


class SessionGone(Exception):
    """The session was deleted while being watched."""


class _Watch:
    def __init__(self, hub: ProgressHub, session_id: str) -> None:
        self.hub, self.session_id = hub, session_id
        self.latest: Snapshot | None = None
        self.version = 0
        self.gone = False
        self.done = False
        self.subscribers = 0
        self.changed = asyncio.Event()
        self._ended_since: float | None = None
        self.task: asyncio.Task[None] | None = None

    def _notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    def publish(self, snap: Snapshot) -> None:
        if self.latest is not None:
            if snap.final is False and snap.progress < self.latest.progress:
                snap = replace(snap, progress=self.latest.progress)  # never backwards
            if snap.same_state(self.latest):
                return
        self.latest = snap
        self.version += 1
        self._notify()

    async def run(self) -> None:
        try:
            while True:
                try:
                    snap = await self._poll()
                except SessionGone:
                    self.gone = True
                    return
                except Exception as exc:  # keep watching through transient database/Temporal errors
                    log.warning(
                        "progress poll failed", extra={"session_id": self.session_id, "error_type": type(exc).__name__}
                    )
                    snap = None
                if snap is not None:
                    self.publish(snap)
                    if snap.final:
                        return
                await asyncio.sleep(self.hub.settings.progress_poll_s)
        finally:
            self.done = True
            self._notify()

    async def _poll(self) -> Snapshot | None:
        row = await load_row(self.session_id)
        if row is None:
            raise SessionGone
        if row.status in FINAL_STATUSES:
            return snapshot_from_row(row)
        if self.latest is None:
            # Something to show at once; the query can take seconds when no worker is polling.
            self.publish(snapshot_from_row(row))
        try:
            client = await self.hub.temporal.get()
            p = await asyncio.wait_for(query_progress(client, self.session_id), QUERY_TIMEOUT_S)
        except (TemporalUnavailable, TimeoutError, RPCError, WorkflowQueryFailedError) as exc:
            if is_not_found(exc):
                return await self._workflow_ended(None)
            return None  # Temporal or the workers are briefly unreachable: keep polling
        if p.status in FINAL_STATUSES:
            # The workflow has decided; its save activity is writing the row. The final message waits
            # for the row so that it and GET /api/sessions/{id} agree.
            return await self._workflow_ended(p)
        self._ended_since = None
        return with_stall(snapshot_from_progress(p), self.hub.stall_of(self.session_id))

    async def _workflow_ended(self, p: m.Progress | None) -> Snapshot | None:
        now = time.monotonic()
        self._ended_since = self._ended_since or now
        if now - self._ended_since < RECONCILE_GRACE_S:
            return None
        status, error = "failed", "processing stopped unexpectedly"
        try:
            client = await self.hub.temporal.get()
            desc = await client.get_workflow_handle(workflow_id(self.session_id)).describe()
            if desc.status == WorkflowExecutionStatus.RUNNING:
                self._ended_since = None  # a new run (retry) started meanwhile
                return None
            status, error = CLOSED_OUTCOMES.get(desc.status, (status, error)) if desc.status else (status, error)
        except RPCError as exc:
            if not is_not_found(exc):
                return None
        if p is not None and p.status in FINAL_STATUSES:
            status, error = p.status, p.error or error
        log.warning("recording an outcome the workflow did not save", extra={"session_id": self.session_id})
        await record_outcome(self.session_id, status, error if status == "failed" else None)
        fresh = await load_row(self.session_id)
        if fresh is None:
            raise SessionGone
        return snapshot_from_row(fresh) if fresh.status in FINAL_STATUSES else None


class Subscription:
    def __init__(self, watch: _Watch) -> None:
        self._w = watch
        self._seen = 0

    async def next(self, timeout: float) -> Snapshot | None:
        """The newest snapshot this subscriber has not seen; None when `timeout` passes first.
        Raises SessionGone when the session was deleted."""
        w = self._w
        if w.version == self._seen and not w.done:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(w.changed.wait(), timeout)
        if w.version != self._seen:
            self._seen = w.version
            return w.latest
        if w.done:
            raise SessionGone  # ended without a final snapshot: deleted (or the hub shut down)
        return None


class ProgressHub:
    def __init__(
        self, settings: Settings, temporal: TemporalConnection, stall_of: Callable[[str], Stall | None] | None = None
    ) -> None:
        self.settings, self.temporal = settings, temporal
        self.stall_of: Callable[[str], Stall | None] = stall_of or (lambda _sid: None)
        self._watches: dict[str, _Watch] = {}

    @contextlib.asynccontextmanager
    async def subscribe(self, session_id: str) -> AsyncIterator[Subscription]:
        w = self._watches.get(session_id)
        if w is None or w.done:
            w = _Watch(self, session_id)
            self._watches[session_id] = w
            w.task = asyncio.create_task(w.run(), name=f"progress-{session_id}")
        w.subscribers += 1
        try:
            yield Subscription(w)
        finally:
            w.subscribers -= 1
            if w.subscribers == 0:
                if w.task is not None and not w.task.done():
                    w.task.cancel()
                if self._watches.get(session_id) is w:
                    del self._watches[session_id]

    def latest(self, session_id: str) -> Snapshot | None:
        """The newest snapshot of a session this process is watching anyway (no query needed)."""
        w = self._watches.get(session_id)
        return w.latest if w is not None else None

    async def close(self) -> None:
        tasks = [w.task for w in self._watches.values() if w.task is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._watches.clear()
