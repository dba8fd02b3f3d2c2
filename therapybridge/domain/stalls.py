"""Stalls: activities that wait for a worker nobody provides.

A frozen worker (SIGSTOP, a hung host) still appears as a poller, so "is someone polling" says nothing.
What an operator and a clinician need is "work has been waiting for a worker for too long". An
activity merely sitting Scheduled is not enough: a session's windows are scheduled all at once and
wait their turn while a healthy worker gets through them (or through another session's). So a kind
of worker is stalled when something of that kind has waited longer than the threshold AND no
activity of that kind has started or heartbeated within it: nobody of that kind is making progress.

Pure: the gateway's monitor feeds it what Temporal's describe returns (therapybridge.api.monitor).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Literal

from therapybridge import messages as m

WorkerKind = Literal["transcription", "processing"]
GPU_ACTIVITIES = frozenset({m.TRANSCRIBE_WINDOW, m.DIARIZE})  # the ones on the gpu task queue


def worker_kind(activity_type: str) -> WorkerKind:
    return "transcription" if activity_type in GPU_ACTIVITIES else "processing"


@dataclass(frozen=True)
class PendingActivity:
    """One pending activity of a running session, as Temporal describes it."""

    session_id: str
    activity_type: str
    started: bool  # a worker has it (Temporal's STARTED); False: Scheduled, no worker took it yet
    scheduled_at: datetime | None
    last_seen_at: datetime | None = None  # its last start or heartbeat, whichever is later

    @property
    def kind(self) -> WorkerKind:
        return worker_kind(self.activity_type)


@dataclass(frozen=True)
class Stall:
    """Work of one session waiting for a kind of worker since `since`."""

    session_id: str
    kind: WorkerKind
    activity_type: str
    since: datetime

    def waited_s(self, now: datetime) -> float:
        return max(0.0, (now - self.since).total_seconds())


def _progressing(pending: Iterable[PendingActivity], now: datetime, threshold_s: float) -> set[WorkerKind]:
    """Kinds of worker that started or heartbeated some activity within the threshold."""
    return {
        p.kind
        for p in pending
        if p.started and p.last_seen_at is not None and (now - p.last_seen_at).total_seconds() <= threshold_s
    }


def find_stalls(pending: Iterable[PendingActivity], now: datetime, threshold_s: float) -> list[Stall]:
    """One stall per (session, kind of worker): its oldest activity that has waited longer than the
    threshold, unless a worker of that kind is visibly making progress. Oldest first."""
    items = list(pending)
    busy = _progressing(items, now, threshold_s)
    oldest: dict[tuple[str, WorkerKind], PendingActivity] = {}
    for p in items:
        if p.started or p.scheduled_at is None or p.kind in busy:
            continue
        if (now - p.scheduled_at).total_seconds() <= threshold_s:
            continue
        key = (p.session_id, p.kind)
        if key not in oldest or p.scheduled_at < oldest[key].scheduled_at:  # type: ignore[operator]
            oldest[key] = p
    stalls = [Stall(p.session_id, p.kind, p.activity_type, p.scheduled_at) for p in oldest.values() if p.scheduled_at]
    return sorted(stalls, key=lambda s: s.since)


def waiting_text(stall: Stall, tz: tzinfo | None = UTC) -> str:
    """What a session's status says instead of a countdown, e.g. "waiting for a transcription worker
    since 12:03" (in `tz`; UTC by default, and then it says so)."""
    local = stall.since.astimezone(tz) if stall.since.tzinfo else stall.since.replace(tzinfo=UTC).astimezone(tz)
    suffix = " UTC" if tz is UTC else ""
    return f"waiting for a {stall.kind} worker since {local:%H:%M}{suffix}"
