"""Stalls and reconciliation, the pure parts: which waiting work is a stall, what the session says,
and which outcome the gateway records for a workflow that closed without saving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

from temporalio.client import WorkflowExecutionStatus

from therapybridge import messages as m
from therapybridge.api.live import Snapshot, with_stall
from therapybridge.api.monitor import ActiveRow, outcome_for
from therapybridge.domain.stalls import PendingActivity, Stall, find_stalls, waiting_text

NOW = datetime(2026, 11, 30, 12, 10, tzinfo=UTC)
T = 120.0


def ago(s: float) -> datetime:
    return NOW - timedelta(seconds=s)


def scheduled(sid: str, kind: str, waited_s: float) -> PendingActivity:
    return PendingActivity(sid, kind, started=False, scheduled_at=ago(waited_s))


def running(sid: str, kind: str, seen_s: float) -> PendingActivity:
    return PendingActivity(sid, kind, started=True, scheduled_at=ago(seen_s + 1), last_seen_at=ago(seen_s))


def test_work_waiting_past_the_threshold_with_no_worker_progressing_is_a_stall() -> None:
    stalls = find_stalls([scheduled("a", m.TRANSCRIBE_WINDOW, 400), scheduled("a", m.TRANSCRIBE_WINDOW, 500)], NOW, T)
    assert stalls == [Stall("a", "transcription", m.TRANSCRIBE_WINDOW, ago(500))]  # one per session, the oldest


def test_waiting_under_the_threshold_is_not_a_stall() -> None:
    assert find_stalls([scheduled("a", m.DIARIZE, T - 1)], NOW, T) == []


def test_a_queue_behind_a_busy_worker_is_not_a_stall() -> None:
    """Windows are scheduled at once and wait their turn: a worker heartbeating another one (of any
    session) is progress."""
    pending = [running("a", m.TRANSCRIBE_WINDOW, 3), scheduled("a", m.TRANSCRIBE_WINDOW, 900),
               scheduled("b", m.DIARIZE, 900)]  # fmt: skip
    assert find_stalls(pending, NOW, T) == []


def test_a_started_activity_that_went_silent_does_not_count_as_progress() -> None:
    """A frozen worker took one task and then nothing: its last heartbeat ages past the threshold."""
    pending = [running("a", m.TRANSCRIBE_WINDOW, T + 30), scheduled("a", m.TRANSCRIBE_WINDOW, T + 5)]
    assert [s.kind for s in find_stalls(pending, NOW, T)] == ["transcription"]


def test_kinds_of_worker_are_judged_apart() -> None:
    pending = [running("a", m.TRANSCRIBE_WINDOW, 1), scheduled("b", m.MERGE, 300)]
    assert [(s.session_id, s.kind) for s in find_stalls(pending, NOW, T)] == [("b", "processing")]


def test_waiting_text_names_the_worker_and_the_time() -> None:
    stall = Stall("a", "transcription", m.TRANSCRIBE_WINDOW, datetime(2026, 11, 30, 12, 3, tzinfo=UTC))
    assert waiting_text(stall) == "waiting for a transcription worker since 12:03 UTC"
    assert waiting_text(stall, timezone(timedelta(hours=-5))) == "waiting for a transcription worker since 07:03"


def test_a_stalled_session_says_since_when_instead_of_a_countdown() -> None:
    snap = Snapshot("a", "transcribing", 35, "transcribing 3/9", None, 4.0, None)
    stall = Stall("a", "transcription", m.TRANSCRIBE_WINDOW, ago(300))
    shown = with_stall(snap, stall)
    assert shown.message.startswith("waiting for a transcription worker since ")
    assert shown.estimated_time_remaining is None and shown.waiting_since == ago(300).isoformat()
    assert shown.progress == 35 and with_stall(snap, None) is snap


def _desc(status: WorkflowExecutionStatus, closed_s: float | None) -> Any:  # stands in for a description
    return SimpleNamespace(status=status, close_time=None if closed_s is None else ago(closed_s))


def test_terminated_or_timed_out_becomes_failed_at_once() -> None:
    row = ActiveRow("a", ago(600))
    assert outcome_for(_desc(WorkflowExecutionStatus.TERMINATED, 1), row, NOW) == (
        "failed",
        "processing was stopped by an operator",
    )
    assert outcome_for(_desc(WorkflowExecutionStatus.TIMED_OUT, 1), row, NOW) == (
        "failed",
        "processing timed out",
    )


def test_a_running_workflow_or_the_previous_run_of_a_retry_is_left_alone() -> None:
    assert outcome_for(_desc(WorkflowExecutionStatus.RUNNING, None), ActiveRow("a", ago(600)), NOW) is None
    # Retry set the row to queued after the old run was terminated; the new run is not started yet.
    retried = ActiveRow("a", ago(1))
    assert outcome_for(_desc(WorkflowExecutionStatus.TERMINATED, 300), retried, NOW) is None


def test_other_closed_runs_wait_for_the_save_first() -> None:
    row = ActiveRow("a", ago(600))
    assert outcome_for(_desc(WorkflowExecutionStatus.FAILED, 2), row, NOW) is None
    assert outcome_for(_desc(WorkflowExecutionStatus.CANCELED, 30), row, NOW) == ("cancelled", None)
    assert outcome_for(_desc(WorkflowExecutionStatus.COMPLETED, 30), row, NOW) == (
        "failed",
        "processing stopped unexpectedly",
    )
    # No history on this server: maybe another server's session in a shared database; left alone.
    assert outcome_for(None, row, NOW) is None
