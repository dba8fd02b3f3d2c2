"""Reading a session's workflow history: its activities with decoded inputs, results and timings,
pending activities, and the raw (still encrypted) payloads. Used by the tests and by bench.throughput."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.api.history.v1 import History, HistoryEvent
from temporalio.client import Client

from therapybridge import search_attributes as sa
from therapybridge.temporal import workflow_id

PATCH_MARKER = "core_patch"  # the marker a workflow.patched call records
CHANGE_VERSION = "TemporalChangeVersion"  # the search attribute the SDK upserts with it: patch ids


@dataclass
class ActivityRun:
    """One activity of a workflow as history shows it (after it closed)."""

    name: str
    scheduled_id: int
    input: Any = None
    scheduled_at: float = 0.0  # event times, epoch seconds
    started_at: float = 0.0  # of the attempt that closed it (or the schedule time if none started)
    closed_at: float = 0.0
    attempt: int = 0  # of the attempt that closed it
    outcome: str = "pending"  # completed | failed | timed_out | canceled
    result: Any = None
    last_failure: Any = None  # temporalio Failure proto of the previous attempt, if any
    failure: Any = None


async def activity_runs(client: Client, session_id: str, run_id: str | None = None) -> list[ActivityRun]:
    """Every activity of the session's workflow (its latest run, or `run_id`) with its decoded input and result."""
    history = await client.get_workflow_handle(workflow_id(session_id), run_id=run_id).fetch_history()
    runs: dict[int, ActivityRun] = {}
    dc = client.data_converter
    for e in history.events:
        t, at = e.event_type, e.event_time.ToMicroseconds() / 1e6
        if t == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            a = e.activity_task_scheduled_event_attributes
            run = ActivityRun(a.activity_type.name, e.event_id, scheduled_at=at, started_at=at)
            if a.input.payloads:
                run.input = (await dc.decode(a.input.payloads))[0]
            runs[e.event_id] = run
        elif t == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            a = e.activity_task_started_event_attributes
            runs[a.scheduled_event_id].attempt, runs[a.scheduled_event_id].started_at = a.attempt, at
            if a.HasField("last_failure"):
                runs[a.scheduled_event_id].last_failure = a.last_failure
        elif t == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            a = e.activity_task_completed_event_attributes
            run = runs[a.scheduled_event_id]
            run.outcome, run.closed_at = "completed", at
            if a.result.payloads:
                run.result = (await dc.decode(a.result.payloads))[0]
        elif t == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            a = e.activity_task_failed_event_attributes
            run = runs[a.scheduled_event_id]
            run.outcome, run.failure, run.closed_at = "failed", a.failure, at
        elif t == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
            a = e.activity_task_timed_out_event_attributes
            run = runs[a.scheduled_event_id]
            run.outcome, run.failure, run.closed_at = "timed_out", a.failure, at
        elif t == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
            runs[e.activity_task_canceled_event_attributes.scheduled_event_id].outcome = "canceled"
    return list(runs.values())


async def decode_details(client: Client, payloads: Any) -> list[Any]:
    """Heartbeat details (or any payloads) decrypted and converted to Python data."""
    if not payloads or not payloads.payloads:
        return []
    return list(await client.data_converter.decode(payloads.payloads))


async def pending_activities(client: Client, session_id: str) -> list[tuple[str, str, list[Any]]]:
    """(activity name, state, heartbeat details) of the workflow's pending activities."""
    desc = await client.get_workflow_handle(workflow_id(session_id)).describe()
    out = []
    for a in desc.raw_description.pending_activities:
        state = PendingActivityState.Name(a.state).removeprefix("PENDING_ACTIVITY_STATE_")
        out.append((a.activity_type.name, state, await decode_details(client, a.heartbeat_details)))
    return out


def iter_payloads(msg: Message) -> Iterator[Payload]:
    """Every Payload message inside a protobuf message (events, failures, maps, repeated fields)."""
    if isinstance(msg, Payload):
        yield msg
        return
    for fd, value in msg.ListFields():
        if fd.type != fd.TYPE_MESSAGE:
            continue
        if fd.is_repeated:
            items = value.values() if fd.message_type.GetOptions().map_entry else value
            for item in items:
                if isinstance(item, Message):
                    yield from iter_payloads(item)
        else:
            yield from iter_payloads(value)


async def raw_history(address: str, session_id: str, run_id: str | None = None) -> History:
    """The session's history (its latest run, or `run_id`) as the server stores it, fetched by a client
    WITHOUT the payload codec."""
    plain = await Client.connect(address)
    events = (await plain.get_workflow_handle(workflow_id(session_id), run_id=run_id).fetch_history()).events
    return History(events=events)


def is_patch_marker(event: HistoryEvent) -> bool:
    """A marker that workflow.patched records (its details hold the patch id)."""
    return event.HasField("marker_recorded_event_attributes") and (
        event.marker_recorded_event_attributes.marker_name == PATCH_MARKER
    )


def is_plain_bookkeeping(event: HistoryEvent) -> bool:
    """The events Temporal itself must read, so no codec encrypts them, and that hold no session data:
    workflow.patched's markers and TemporalChangeVersion (patch ids), and the SessionStage/SessionStatus
    upserts, whose values are checked here to be words of their vocabulary (search_attributes.py)."""
    if event.HasField("marker_recorded_event_attributes"):
        return is_patch_marker(event)
    if not event.HasField("upsert_workflow_search_attributes_event_attributes"):
        return False
    fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
    words = {*sa.STAGES, *sa.STATUSES}
    ours = [name for name in fields if name != CHANGE_VERSION]
    return set(ours) <= {key.name for key in sa.KEYS} and all(json.loads(fields[n].data) in words for n in ours)
