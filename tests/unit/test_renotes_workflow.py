"""RenotesWorkflow alone (issue 16), on Temporal's own test environment with stand-in activities:
the order stage → notes → apply, a superseded version that does nothing, and a notes failure that
still tells the session (apply with ok=False) instead of leaving it "pending" for ever. The real
activities run in tests/api/test_transcript_edits.py and, under the real workflow, in
tests/web/test_web_corrections.py."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.support.harness import temporal_cli
from therapybridge import messages as m
from therapybridge.workflows.renotes import RenotesWorkflow

CONFIG = m.WorkflowConfig(retry_initial_s=0.1, retry_max_attempts=2)
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(), dev_server_startup_timeout=timedelta(seconds=180)
    ) as e:
        yield e


def _stand(calls: list[Any], *, staged: str = "s/edited-transcript.json", notes_fail: bool = False) -> list[Any]:
    @activity.defn(name=m.STAGE_EDITED)
    async def stage(inp: m.RenotesInput) -> str:
        calls.append(("stage", inp.version))
        return staged

    @activity.defn(name=m.NOTES)
    async def notes(req: m.NotesRequest) -> m.NotesResult:
        calls.append(("notes", req.merged_ref))
        if notes_fail:
            raise ApplicationError("provider refused", type=m.PROVIDER_BAD_REQUEST, non_retryable=True)
        return m.NotesResult(ref="s/notes.json", risk_flags=1, provider="local")

    @activity.defn(name=m.APPLY_RENOTES)
    async def apply(out: m.RenotesOutcome) -> None:
        calls.append(("apply", out.version, out.ok, out.staged_ref))

    return [stage, notes, apply]


async def _run(env: WorkflowEnvironment, calls: list[Any], **kw: Any) -> str:
    queue = f"renotes-{uuid.uuid4()}"
    config = m.WorkflowConfig(**{**CONFIG.__dict__, "io_task_queue": queue})
    async with Worker(env.client, task_queue=queue, workflows=[RenotesWorkflow], activities=_stand(calls, **kw)):
        return await env.client.execute_workflow(
            RenotesWorkflow.run,
            args=[m.RenotesInput(session_id="s", version=3), config],
            id=f"renotes-{uuid.uuid4()}",
            task_queue=queue,
        )


async def test_stage_notes_apply(env: WorkflowEnvironment) -> None:
    calls: list[Any] = []
    assert await _run(env, calls) == "done"
    staged = "s/edited-transcript.json"
    assert calls == [("stage", 3), ("notes", staged), ("apply", 3, True, staged)]


async def test_a_superseded_version_does_nothing(env: WorkflowEnvironment) -> None:
    calls: list[Any] = []
    assert await _run(env, calls, staged="") == "superseded"
    assert calls == [("stage", 3)]


async def test_a_notes_failure_is_applied_as_failed(env: WorkflowEnvironment) -> None:
    calls: list[Any] = []
    assert await _run(env, calls, notes_fail=True) == "failed"
    assert calls[-1] == ("apply", 3, False, "s/edited-transcript.json")
