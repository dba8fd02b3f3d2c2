"""The gateway's session monitor: Temporal is the truth about what runs, the database about outcomes.

Every STALL_CHECK_S it describes the workflow of each session that is not final yet and
- reconciles: a workflow closed without its save writing the row (an operator's Terminate in the
  Temporal UI, a workflow timeout, a history that is gone) gets its outcome recorded, so the session
  reads `failed` and Retry works instead of showing a frozen "Transcribing · 35%";
- finds stalls: work waiting longer than STALL_AFTER_S for a kind of worker that makes no progress
  (therapybridge.domain.stalls), reported by /api/health, in the session's live status message, and
  logged once per stall (ids, activity types and seconds only: no PHI).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus
from temporalio.service import RPCError

from therapybridge.api.crud import record_outcome, unfinished_rows
from therapybridge.api.deps import TemporalConnection, TemporalUnavailable
from therapybridge.api.runs import CLOSED_OUTCOMES, is_not_found
from therapybridge.domain.stalls import PendingActivity, Stall, find_stalls
from therapybridge.settings import Settings
from therapybridge.temporal import workflow_id

log = logging.getLogger("therapybridge.api.monitor")

DESCRIBE_TIMEOUT_S = 5.0
MAX_SESSIONS = 500  # per sweep; active sessions are bounded by MAX_ACTIVE_SESSIONS_PER_USER anyway
# A closed run that did save writes the row a moment before it closes; one that ended otherwise
# (failed before its save, history gone) is given this long before the gateway writes the outcome.
CLOSED_GRACE_S = 10.0

# Closed by something outside the workflow: its own save never ran, so there is nothing to wait for.
STOPPED_FROM_OUTSIDE = (WorkflowExecutionStatus.TERMINATED, WorkflowExecutionStatus.TIMED_OUT)
UNEXPECTED = "processing stopped unexpectedly"


@dataclass(frozen=True)
class ActiveRow:
    id: str
    updated_at: datetime


def _utc(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _ts(msg: object, name: str) -> datetime | None:
    if not msg.HasField(name):  # type: ignore[attr-defined]
        return None
    return _utc(getattr(msg, name).ToDatetime())


def pending_activities(session_id: str, desc: WorkflowExecutionDescription) -> list[PendingActivity]:
    out = []
    for p in desc.raw_description.pending_activities:
        started_at, beat_at = _ts(p, "last_started_time"), _ts(p, "last_heartbeat_time")
        seen = max((t for t in (started_at, beat_at) if t is not None), default=None)
        out.append(
            PendingActivity(
                session_id=session_id,
                activity_type=p.activity_type.name,
                started=p.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
                scheduled_at=_ts(p, "scheduled_time"),
                last_seen_at=seen,
            )
        )
    return out


def outcome_for(
    desc: WorkflowExecutionDescription | None, row: ActiveRow, now: datetime
) -> tuple[str, str | None] | None:
    """The outcome to record for a session whose row is not final, or None to leave it alone.

    `desc` None (no history on this Temporal server) is left alone: the row may belong to a workflow
    on another server sharing the database, and a watched session's stream handles a vanished one
    (api.live). A closed run counts only if it closed after the row last changed: a Retry sets the row
    to queued a moment before it starts the new run, and the previous, terminated run must not fail
    the retry."""
    if desc is None:
        return None
    if desc.status in (WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.CONTINUED_AS_NEW, None):
        return None
    closed = _utc(desc.close_time)
    if closed is None or closed < row.updated_at:
        return None
    if desc.status in STOPPED_FROM_OUTSIDE:
        return CLOSED_OUTCOMES[desc.status]
    if (now - closed).total_seconds() < CLOSED_GRACE_S:
        return None
    if desc.status == WorkflowExecutionStatus.CANCELED:
        return CLOSED_OUTCOMES[desc.status]
    return "failed", UNEXPECTED


async def _describe(client: Client, session_id: str) -> WorkflowExecutionDescription | None:
    try:
        return await asyncio.wait_for(
            client.get_workflow_handle(workflow_id(session_id)).describe(), DESCRIBE_TIMEOUT_S
        )
    except RPCError as exc:
        if is_not_found(exc):
            return None
        raise


async def settle(desc: WorkflowExecutionDescription | None, row: ActiveRow, now: datetime) -> bool:
    """Record the outcome of a session whose workflow has closed without saving. True if recorded."""
    outcome = outcome_for(desc, row, now)
    if outcome is None:
        return False
    status = desc.status.name if desc is not None and desc.status is not None else "NOT_FOUND"
    log.warning(
        "recording an outcome the workflow did not save",
        extra={"session_id": row.id, "status": outcome[0], "workflow_status": status},
    )
    await record_outcome(row.id, *outcome)
    return True


async def reconcile(client: Client, session_id: str, updated_at: datetime | None) -> bool:
    """settle() for one session now: Retry asks before it answers 409, so it never waits for a sweep."""
    row = ActiveRow(session_id, _utc(updated_at) or datetime.now(UTC))
    return await settle(await _describe(client, session_id), row, datetime.now(UTC))


async def active_rows(limit: int = MAX_SESSIONS) -> list[ActiveRow]:
    return [ActiveRow(sid, _utc(updated) or datetime.now(UTC)) for sid, updated in await unfinished_rows(limit)]


class SessionMonitor:
    def __init__(self, settings: Settings, temporal: TemporalConnection) -> None:
        self.settings, self.temporal = settings, temporal
        self.stalls: list[Stall] = []
        self.checked_at: datetime | None = None
        self._logged: set[tuple[str, str]] = set()
        self._task: asyncio.Task[None] | None = None

    def stall_of(self, session_id: str) -> Stall | None:
        return next((s for s in self.stalls if s.session_id == session_id), None)

    async def sweep(self) -> None:
        client = await self.temporal.get(timeout=DESCRIBE_TIMEOUT_S)
        rows = await active_rows()
        now = datetime.now(UTC)
        gate = asyncio.Semaphore(8)

        async def one(row: ActiveRow) -> list[PendingActivity]:
            async with gate:
                desc = await _describe(client, row.id)
            if desc is not None and desc.status == WorkflowExecutionStatus.RUNNING:
                # Stalls are judged on this deployment's queues only (another gateway's sessions may share
                # the database and the server, with workers of their own).
                return pending_activities(row.id, desc) if desc.task_queue == self.settings.io_task_queue else []
            await settle(desc, row, now)
            return []

        results = await asyncio.gather(*(one(r) for r in rows), return_exceptions=True)
        pending = [p for r in results if isinstance(r, list) for p in r]
        self._publish(find_stalls(pending, now, self.settings.stall_after_s), now)

    def _publish(self, stalls: Iterable[Stall], now: datetime) -> None:
        self.stalls, self.checked_at = list(stalls), now
        current = {(s.session_id, s.kind) for s in self.stalls}
        for s in self.stalls:
            if (s.session_id, s.kind) not in self._logged:
                log.warning(
                    "work waiting for a worker",
                    extra={"session_id": s.session_id, "worker": s.kind, "activity": s.activity_type,
                           "waited_s": round(s.waited_s(now), 1)},
                )  # fmt: skip
        for sid, kind in self._logged - current:
            log.info("work picked up again", extra={"session_id": sid, "worker": kind})
        self._logged = current

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except (TemporalUnavailable, TimeoutError, RPCError) as exc:
                log.info("session monitor skipped a sweep", extra={"error_type": type(exc).__name__})
            except Exception as exc:  # a database hiccup: try again next time
                log.warning("session monitor sweep failed", extra={"error_type": type(exc).__name__})
            await asyncio.sleep(self.settings.stall_check_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="session-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
