"""The Temporal client calls the HTTP layer makes on a session's workflow: start, cancel, wait until
closed, stop and forget (delete its history), and a quick progress query."""

from __future__ import annotations

import asyncio

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowQueryFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from therapybridge import messages as m
from therapybridge.api.deps import TemporalConnection
from therapybridge.db import SessionRecord
from therapybridge.settings import Settings
from therapybridge.temporal import query_progress, start_session, workflow_config, workflow_id

# The outcome a session's row records when its workflow closed this way without the save writing it.
CLOSED_OUTCOMES: dict[WorkflowExecutionStatus, tuple[str, str | None]] = {
    WorkflowExecutionStatus.CANCELED: ("cancelled", None),
    WorkflowExecutionStatus.TERMINATED: ("failed", "processing was stopped by an operator"),
    WorkflowExecutionStatus.TIMED_OUT: ("failed", "processing timed out"),
    WorkflowExecutionStatus.FAILED: ("failed", "processing failed"),
}


def is_not_found(exc: BaseException) -> bool:
    return isinstance(exc, RPCError) and exc.status == RPCStatusCode.NOT_FOUND


def session_input(row: SessionRecord) -> m.SessionInput:
    return m.SessionInput(
        session_id=row.id,
        upload_ref=row.upload_ref or "",
        audio_filename=row.audio_filename,
        num_speakers=row.num_speakers,
        min_speakers=row.min_speakers,
        max_speakers=row.max_speakers,
        patient_id=row.patient_id,
        therapist_id=row.therapist_id,
        retain_audio=row.keep_audio,
    )


async def start(client: Client, settings: Settings, row: SessionRecord) -> None:
    """Start the session's workflow (WorkflowAlreadyStartedError while one runs)."""
    await start_session(client, settings, session_input(row))


def renotes_id(session_id: str) -> str:
    return f"renotes-{session_id}"


async def start_renotes(temporal: TemporalConnection, settings: Settings, session_id: str, version: int) -> None:
    """Rebuild the notes from transcript `version` (RenotesWorkflow); a run still working on an older
    version is terminated: the newest correction wins. TemporalUnavailable or RPCError when it cannot."""
    client = await temporal.get(timeout=5.0)
    await client.start_workflow(
        m.RENOTES_WORKFLOW,
        args=[m.RenotesInput(session_id=session_id, version=version), workflow_config(settings)],
        id=renotes_id(session_id),
        task_queue=settings.io_task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING,
    )


async def cancel(client: Client, session_id: str) -> bool:
    """Ask the workflow to cancel; False when no run is there to ask (gone or already closed)."""
    try:
        await client.get_workflow_handle(workflow_id(session_id)).cancel(reason="cancelled by user")
    except RPCError as exc:
        if not is_not_found(exc) and exc.status != RPCStatusCode.FAILED_PRECONDITION:
            raise
        return False
    return True


async def wait_closed(client: Client, session_id: str, timeout: float) -> bool:
    """Until the session's workflow is no longer running (a run that has saved its outcome closes a
    moment later); False if it still runs after `timeout`."""
    handle = client.get_workflow_handle(workflow_id(session_id))
    deadline = asyncio.get_running_loop().time() + max(0.0, timeout)
    while True:
        try:
            if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                return True
        except RPCError as exc:
            if is_not_found(exc):
                return True
            raise
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(0.2)


async def stop_and_forget(client: Client, settings: Settings, session_id: str) -> bool:
    """Terminate the session's workflows if they run (the pipeline and any re-notes), then delete
    their histories (every run). True if the pipeline was running."""
    await _stop_and_forget(client, settings, renotes_id(session_id))
    return await _stop_and_forget(client, settings, workflow_id(session_id))


async def _stop_and_forget(client: Client, settings: Settings, wid: str) -> bool:
    handle = client.get_workflow_handle(wid)
    try:
        desc = await handle.describe()
    except RPCError as exc:
        if is_not_found(exc):
            return False
        raise
    running = desc.status == WorkflowExecutionStatus.RUNNING
    if running:
        await handle.terminate(reason="session deleted")
    run_ids = [desc.run_id]
    try:
        async for wf in client.list_workflows(f"WorkflowId = '{wid}'"):
            if wf.run_id not in run_ids:
                run_ids.append(wf.run_id)
    except RPCError:
        pass  # no visibility store: the latest run's history is still deleted below
    for run_id in run_ids:
        try:
            await client.workflow_service.delete_workflow_execution(
                DeleteWorkflowExecutionRequest(
                    namespace=settings.temporal_namespace,
                    workflow_execution=WorkflowExecution(workflow_id=wid, run_id=run_id),
                )
            )
        except RPCError as exc:
            if not is_not_found(exc):
                raise
    return running


async def live_progress(client: Client, session_id: str, timeout: float = 2.0) -> m.Progress | None:
    """The workflow's progress, or None when it cannot be had quickly."""
    try:
        return await asyncio.wait_for(query_progress(client, session_id), timeout)
    except (TimeoutError, RPCError, WorkflowQueryFailedError):
        return None
