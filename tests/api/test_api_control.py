"""Cancel, retry and delete through the gateway, against the real workflow."""

from __future__ import annotations

import asyncio
import time

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from tests.support.api import Account, Api, upload, wait_status, watch_sse, watch_ws, ws_close_code
from tests.support.harness import CORPUS
from tests.support.stack import Stack
from therapybridge import messages as m
from therapybridge.db import SessionRecord, session_scope
from therapybridge.temporal import workflow_id

pytest_plugins = ["tests.support.api_fixtures"]
pytestmark = pytest.mark.slow

LONG = CORPUS / "synthetic" / "d01.flac"  # 176 s: long enough to act on mid-run
SHORT = CORPUS / "real" / "jfk.flac"
SILENCE = CORPUS / "real" / "empty.wav"  # valid audio, no speech: the workflow fails (non-retryable)


async def _wait_running(api: Api, who: Account, sid: str, statuses: set[str]) -> None:
    """Until the live status (the workflow's progress query) is one of `statuses`."""
    await wait_status(api, who, sid, statuses, timeout=120)


async def _history_deleted(stack: Stack, sid: str, timeout: float = 90) -> bool:
    """Temporal deletes a workflow's history in the background (tens of seconds on the dev server)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            await stack.client.get_workflow_handle(workflow_id(sid)).describe()
        except RPCError as exc:
            return exc.status == RPCStatusCode.NOT_FOUND
        await asyncio.sleep(1)
    return False


async def _run_ids(stack: Stack, sid: str) -> list[str]:
    return [wf.run_id async for wf in stack.client.list_workflows(f"WorkflowId = '{workflow_id(sid)}'")]


async def _run_inputs(stack: Stack, sid: str) -> list[m.SessionInput]:
    """The SessionInput every run of the session started with (decoded through the codec)."""
    inputs = []
    for run_id in await _run_ids(stack, sid):
        history = await stack.client.get_workflow_handle(workflow_id(sid), run_id=run_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        first, *_ = await stack.client.data_converter.decode(started.input.payloads, [m.SessionInput, dict])
        inputs.append(first)
    return inputs


async def test_cancel_mid_run_then_retry_to_processed(api: Api, therapist: Account, stack: Stack) -> None:
    hint = {"patient_id": therapist.patient_id, "num_speakers": "2"}
    sid = (await upload(api, therapist, LONG, data=hint)).json()["id"]
    watcher = asyncio.create_task(watch_ws(api, sid, therapist.token))
    await _wait_running(api, therapist, sid, {"preprocessing", "transcribing", "diarizing"})
    async with api.client(therapist.token) as c:
        r = await c.post(f"/api/sessions/{sid}/cancel")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "cancelled"
        messages, code = await asyncio.wait_for(watcher, 30)
        assert code == 1000 and messages[-1]["status"] == "cancelled" and messages[-1]["final"]
        percents = [m["progress"] for m in messages if m["type"] == "progress"]
        assert percents == sorted(percents)
        desc = await stack.client.get_workflow_handle(workflow_id(sid)).describe()
        assert desc.status == WorkflowExecutionStatus.CANCELED
        assert (await c.post(f"/api/sessions/{sid}/cancel")).status_code == 409  # already cancelled

        # Retry runs it again from the stored upload, to the end this time.
        r = await c.post(f"/api/sessions/{sid}/retry")
        assert r.status_code == 202 and r.json()["status"] == "queued", r.text
        assert (await c.post(f"/api/sessions/{sid}/retry")).status_code == 409  # running again now
        status, events, _ = await watch_sse(api, sid, headers=therapist.headers)
        assert status == 200 and events[-1].event == "complete"
        doc = (await c.get(f"/api/sessions/{sid}")).json()
        assert doc["status"] == "processed" and doc["transcript_segments"]
        assert len(await _run_ids(stack, sid)) == 2
        assert [i.num_speakers for i in await _run_inputs(stack, sid)] == [2, 2]  # the retry kept the hint
        assert (await c.post(f"/api/sessions/{sid}/retry")).status_code == 409  # processed: nothing to retry


async def test_failure_is_reported_and_retry_runs_again(api: Api, therapist: Account, stack: Stack) -> None:
    sid = (await upload(api, therapist, SILENCE)).json()["id"]
    status, events, _ = await watch_sse(api, sid, headers=therapist.headers)
    assert status == 200 and events[-1].event == "failed"
    final = events[-1].data
    assert final["status"] == "failed" and final["progress"] == 100 and "no speech" in final["error"]
    async with api.client(therapist.token) as c:
        doc = (await c.get(f"/api/sessions/{sid}")).json()
        assert doc["status"] == "failed" and "no speech" in doc["error"]
        assert (await c.get(f"/api/sessions/{sid}/transcript.srt")).status_code == 409  # nothing to export
        assert stack.blobs.exists(f"{sid}/upload.wav"), "a failed session keeps its upload for a retry"

        r = await c.post(f"/api/sessions/{sid}/retry")
        assert r.status_code == 202 and r.json()["status"] == "queued" and r.json()["error"] is None
        messages, code = await watch_ws(api, sid, therapist.token)
        assert code == 1000 and messages[-1]["status"] == "failed"
        assert len(await _run_ids(stack, sid)) == 2  # a second run of the workflow, same session


async def test_delete_processed_session(api: Api, therapist: Account, stack: Stack) -> None:
    sid = (await upload(api, therapist, SHORT)).json()["id"]
    await wait_status(api, therapist, sid, {"processed"})
    async with api.client(therapist.token) as c:
        assert (await c.delete(f"/api/sessions/{sid}")).status_code == 204
        for path in ("", "/transcript.txt", "/diarization.rttm"):
            assert (await c.get(f"/api/sessions/{sid}{path}")).status_code == 404
        assert (await c.delete(f"/api/sessions/{sid}")).status_code == 404
        listed = (await c.get("/api/sessions", params={"limit": 100})).json()["data"]
        assert sid not in {s["id"] for s in listed}
    assert stack.blobs.session_keys(sid) == [] and not stack.blobs.path(sid).exists()
    assert (await ws_close_code(api, sid, therapist.token))[0] == 1008
    assert await _history_deleted(stack, sid), "the workflow history was not deleted"


async def test_delete_mid_run_stops_the_workflow_and_leaves_nothing(api: Api, therapist: Account, stack: Stack) -> None:
    sid = (await upload(api, therapist, LONG)).json()["id"]
    watcher = asyncio.create_task(watch_ws(api, sid, therapist.token))
    await _wait_running(api, therapist, sid, {"transcribing", "diarizing"})
    async with api.client(therapist.token) as c:
        assert (await c.delete(f"/api/sessions/{sid}")).status_code == 204
        assert (await c.get(f"/api/sessions/{sid}")).status_code == 404
    deleted_at = time.monotonic()
    _, code = await asyncio.wait_for(watcher, 30)
    assert code == 1008  # the watcher learns the session is gone
    try:  # terminated, until its history is deleted in the background
        desc = await stack.client.get_workflow_handle(workflow_id(sid)).describe()
        assert desc.status == WorkflowExecutionStatus.TERMINATED
    except RPCError as exc:
        assert exc.status == RPCStatusCode.NOT_FOUND
    # An activity that was mid-flight learns of the stop at its next heartbeat and may write once more
    # before that; the gateway sweeps again at 3 s and after the heartbeat timeout.
    await asyncio.sleep(max(0.0, stack.settings.heartbeat_timeout_s + 7 - (time.monotonic() - deleted_at)))
    assert not stack.blobs.path(sid).exists()
    async with session_scope() as db:
        assert await db.get(SessionRecord, sid) is None
    assert await _history_deleted(stack, sid), "the workflow history was not deleted"
