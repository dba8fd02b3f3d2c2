"""Issue 17, reprocessing end to end: a session processed by the real workflow (Temporal, workers,
Postgres), its note edited and signed over HTTP, then reprocessed the way an operator does it from
the Temporal UI (a Reset to the first workflow task, which runs every stage and the save again). The
signed note survives untouched; the engine's notes come back as a new draft beside it."""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest

from tests.support.api import Account, Api, upload, wait_status
from tests.support.harness import CORPUS
from therapybridge.db import SessionRecord, session_scope
from therapybridge.temporal import workflow_id

pytest_plugins = ["tests.support.api_fixtures"]
pytestmark = pytest.mark.slow

JFK = CORPUS / "real" / "jfk.flac"
MARK = "Clinician addendum: reviewed against the recording."


async def test_a_reset_in_the_temporal_ui_adds_a_draft_beside_the_signed_note(api: Api, therapist: Account) -> None:
    sid = (await upload(api, therapist, JFK)).json()["id"]
    doc = await wait_status(api, therapist, sid, {"processed", "failed"})
    assert doc["status"] == "processed", doc.get("error")
    base = f"/api/sessions/{sid}"
    async with api.client(therapist.token) as c:
        state = (await c.get(f"{base}/signoff")).json()
        v1 = state["note"]["current"]
        assert (v1["version"], v1["source"], v1["status"]) == (1, "engine", "draft")  # written by the save activity
        signed_text = v1["text"] + MARK + "\n"
        assert (await c.put(f"{base}/note", json={"text": signed_text, "base_version": 1})).status_code == 200
        assert (await c.post(f"{base}/note/sign", json={"version": 2})).status_code == 200

    # The operator's Reset: a new run of the same workflow from its first task. Processing deleted the
    # upload (no RETAIN_AUDIO), so put the recording back where the run will look for it.
    async with session_scope() as s:
        row = await s.get(SessionRecord, sid)
        assert row is not None and row.upload_ref
    shutil.copyfile(JFK, api.stack.blobs.path(row.upload_ref))
    client = api.stack.client
    handle = client.get_workflow_handle(workflow_id(sid))
    history = await handle.fetch_history()
    first_task = next(
        e.event_id for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    )
    run_id = (await handle.describe()).run_id
    reset = await client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=api.stack.settings.temporal_namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id(sid), run_id=run_id),
            reason="reprocess (test)",
            workflow_task_finish_event_id=first_task,
            request_id=str(uuid.uuid4()),
        )
    )
    assert reset.run_id and reset.run_id != run_id
    await asyncio.wait_for(client.get_workflow_handle(workflow_id(sid), run_id=reset.run_id).result(), 600)

    # The new run's save has finished: poll the API until its draft is there (generous deadline).
    deadline = time.monotonic() + 120
    async with api.client(therapist.token) as c:
        while True:
            r = await c.get(f"{base}/signoff")
            if r.status_code == 200 and r.json()["note"]["versions"] >= 3:
                state = r.json()
                break
            assert time.monotonic() < deadline, f"no reprocess draft: {r.status_code} {r.text[:300]}"
            await asyncio.sleep(0.5)
        assert state["note"]["final"]["version"] == 2 and state["note"]["final"]["text"] == signed_text
        current = state["note"]["current"]
        assert (current["version"], current["source"], current["status"], current["based_on"]) == (
            3, "reprocess", "draft", 2,
        )  # fmt: skip
        assert MARK not in current["text"] and state["note_status"] == "unsigned"
        versions = (await c.get(f"{base}/note/versions")).json()
        assert [(v["version"], v["status"]) for v in versions] == [(3, "draft"), (2, "signed"), (1, "superseded")]
        history = (await c.get(f"{base}/history")).json()
        assert ("system", "note.reprocess", "note:3") in {(e["user_id"], e["action"], e["ref"]) for e in history}
        assert [e["action"] for e in history if e["user_id"] == therapist.user_id][:2] == ["note.sign", "note.edit"]
