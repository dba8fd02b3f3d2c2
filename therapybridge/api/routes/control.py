"""Session control: cancel, retry and delete. SQL in api.crud, Temporal calls in api.runs."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request, Response, status
from temporalio.client import Client
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from therapybridge.api import crud, runs
from therapybridge.api.deps import (
    BlobsDep,
    CurrentUser,
    SessionDep,
    SettingsDep,
    TemporalDep,
    TemporalUnavailable,
    visible_session,
)
from therapybridge.api.intake import error
from therapybridge.api.models import Message
from therapybridge.api.monitor import reconcile
from therapybridge.api.routes.audit import record
from therapybridge.api.routes.sessions import ERRORS
from therapybridge.blobs import BlobStore
from therapybridge.db import SessionRecord
from therapybridge.document import FINAL_STATUSES, SessionDocument

log = logging.getLogger("therapybridge.api.sessions")
router = APIRouter(prefix="/api/sessions", tags=["sessions"])

CANCEL_WAIT_S = 15.0


async def _fresh(session_id: str) -> SessionRecord:
    fresh = await crud.load_row(session_id)
    if fresh is None:
        raise error(status.HTTP_404_NOT_FOUND, "session not found")
    return fresh


@router.post(
    "/{session_id}/cancel",
    response_model=SessionDocument,
    responses={
        **ERRORS,
        202: {"model": SessionDocument, "description": "Cancellation requested, not yet done."},
        409: {"model": Message, "description": "The session has already finished."},
    },
)
async def cancel_session(
    session_id: str, response: Response, user: CurrentUser, db: SessionDep, temporal: TemporalDep
) -> SessionDocument:
    """Cancel processing. Answers with the cancelled session (200), or 202 if the workflow has not
    finished cancelling within a few seconds."""
    row = await visible_session(db, user, session_id)
    if row.status in FINAL_STATUSES:
        raise error(status.HTTP_409_CONFLICT, f"the session is already {row.status}")
    await record(db, user, "session.cancel", session_id=row.id, patient_id=row.patient_id)
    await db.close()
    if not await runs.cancel(temporal, session_id):
        await crud.record_outcome(session_id, "cancelled", None)  # nothing runs: record it ourselves
    # Done means both: the outcome is recorded and the workflow has closed (so a retry can start at once).
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CANCEL_WAIT_S
    while True:
        fresh = await _fresh(session_id)
        if fresh.status in FINAL_STATUSES or loop.time() > deadline:
            break
        await asyncio.sleep(0.2)
    closed = await runs.wait_closed(temporal, session_id, deadline - loop.time())
    if fresh.status not in FINAL_STATUSES or not closed:
        response.status_code = status.HTTP_202_ACCEPTED
    return fresh.to_document()


@router.post(
    "/{session_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SessionDocument,
    responses={**ERRORS, 409: {"model": Message, "description": "Not failed or cancelled, or the upload is gone."}},
)
async def retry_session(
    session_id: str, user: CurrentUser, db: SessionDep, settings: SettingsDep, temporal: TemporalDep, blobs: BlobsDep
) -> SessionDocument:
    """Run a failed or cancelled session again from its stored upload."""
    row = await visible_session(db, user, session_id)
    if row.status not in crud.RETRYABLE and await reconcile(temporal, row.id, row.updated_at):
        await db.refresh(row)  # its workflow was closed from outside (e.g. Terminate): now `failed`
    if row.status not in crud.RETRYABLE:
        raise error(
            status.HTTP_409_CONFLICT, f"only failed or cancelled sessions can be retried (this one is {row.status})"
        )
    if not row.upload_ref or not blobs.exists(row.upload_ref):
        raise error(status.HTTP_409_CONFLICT, "the original upload is no longer stored; upload the file again")
    await db.close()
    if not await runs.wait_closed(temporal, session_id, CANCEL_WAIT_S):  # the last run is still finishing
        raise error(status.HTTP_409_CONFLICT, "the session is still running")
    previous = {"status": row.status, "error": row.error, "progress": row.progress}
    if not await crud.claim_retry(db, session_id):  # of two concurrent retries, one wins
        raise error(status.HTTP_409_CONFLICT, "the session is already being retried")
    await record(db, user, "session.retry", session_id=row.id, patient_id=row.patient_id)
    try:
        await runs.start(temporal, settings, row)
    except Exception as exc:
        await crud.restore(db, session_id, previous)
        if isinstance(exc, WorkflowAlreadyStartedError):
            raise error(status.HTTP_409_CONFLICT, "the session is already running") from None
        log.error("workflow restart failed", extra={"session_id": session_id, "error_type": type(exc).__name__})
        raise error(status.HTTP_503_SERVICE_UNAVAILABLE, "could not start processing; try again") from None
    await crud.clear_outcome(db, session_id)
    return (await _fresh(session_id)).to_document()


@router.delete(
    "/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**ERRORS, 503: {"model": Message, "description": "Cannot reach Temporal to stop a running session."}},
)
async def delete_session(
    session_id: str, request: Request, user: CurrentUser, db: SessionDep, settings: SettingsDep, blobs: BlobsDep
) -> Response:
    """Delete the session: stop its workflow, remove its audio and artifacts, its row and its
    workflow history. A deleted session answers 404."""
    row = await visible_session(db, user, session_id)
    running = row.status not in FINAL_STATUSES
    try:
        client: Client = await request.app.state.temporal.get()
        running = await runs.stop_and_forget(client, settings, session_id)
    except (TemporalUnavailable, RPCError) as exc:
        if running:
            raise error(
                status.HTTP_503_SERVICE_UNAVAILABLE, "cannot reach the workflow service to stop the session"
            ) from exc
        log.warning("workflow history not deleted", extra={"session_id": session_id, "error_type": type(exc).__name__})
    await asyncio.to_thread(blobs.delete_session, session_id)
    await crud.delete_session(db, row, user)
    if running:
        # An activity that was mid-flight when the workflow stopped can still write a file or the row
        # (it learns of the stop at its next heartbeat); sweep again once that has surely happened.
        sweep = asyncio.create_task(_sweep_later(session_id, blobs, (3.0, settings.heartbeat_timeout_s + 5)))
        request.app.state.background.add(sweep)
        sweep.add_done_callback(request.app.state.background.discard)
    log.info("session deleted", extra={"session_id": session_id})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _sweep_later(session_id: str, blobs: BlobStore, delays: tuple[float, ...]) -> None:
    waited = 0.0
    for delay in delays:
        await asyncio.sleep(max(0.0, delay - waited))
        waited = delay
        await asyncio.to_thread(blobs.delete_session, session_id)
        await crud.sweep_rows(session_id)
