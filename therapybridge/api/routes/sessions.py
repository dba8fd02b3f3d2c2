"""Sessions: upload (streamed, capped, validated), read, list, cancel, retry, delete."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import os
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import ClientDisconnect
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from therapybridge import breaker, signoff
from therapybridge import messages as m
from therapybridge.api.deps import (
    PATIENT_NOT_FOUND,
    BlobsDep,
    CurrentUser,
    SessionDep,
    SettingsDep,
    TemporalDep,
    TemporalUnavailable,
    visible_session,
)
from therapybridge.api.limits import MULTIPART_SLACK
from therapybridge.api.live import live_progress, load_row, record_outcome
from therapybridge.api.models import Message, SessionList, SessionSummary
from therapybridge.api.monitor import reconcile
from therapybridge.api.routes.audit import record
from therapybridge.api.upload import BadUpload, UploadTooLarge, receive_upload
from therapybridge.blobs import BlobStore, upload_key
from therapybridge.db import AuditEvent, DeletedSession, Patient, SessionRecord, session_scope
from therapybridge.document import FINAL_STATUSES, SessionDocument, Status
from therapybridge.domain.speaker_hints import SESSION_TYPES, HintError, SpeakerHints, parse_count, resolve_hints
from therapybridge.settings import Settings
from therapybridge.speech.audio import ALLOWED_EXTENSIONS, AudioInfo, InvalidAudio, check_file_type, probe
from therapybridge.temporal import start_session, workflow_id

log = logging.getLogger("therapybridge.api.sessions")
router = APIRouter(prefix="/api/sessions", tags=["sessions"])

MiB = 1024 * 1024
RETRYABLE = ("failed", "cancelled")
CANCEL_WAIT_S = 15.0

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "patient_id"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The recording."},
                        "patient_id": {"type": "string", "description": "One of your patients."},
                        "session_date": {"type": "string", "format": "date"},
                        "num_speakers": {"type": "integer", "minimum": 1, "maximum": 10,
                                         "description": "Exactly this many people speak."},
                        "min_speakers": {"type": "integer", "minimum": 1, "maximum": 10},
                        "max_speakers": {"type": "integer", "minimum": 1, "maximum": 10},
                        "session_type": {
                            "type": "string",
                            "enum": list(SESSION_TYPES),
                            "description": "individual = 2 speakers, couple = 3, family = 3 to 6, group = "
                            "3 or more; explicit counts take precedence. Nothing: counted automatically.",
                        },
                    },
                }
            }
        },
    }
}
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Message, "description": "Missing, expired or invalid token."},
    404: {"model": Message, "description": "No such session (or not yours)."},
}


def _error(code: int, detail: str) -> HTTPException:
    return HTTPException(code, detail=detail)


def _field_error(field: str, msg: str = "Field required", kind: str = "missing") -> RequestValidationError:
    """A 422 shaped like FastAPI's own validation errors (the upload form is parsed by hand)."""
    return RequestValidationError([{"type": kind, "loc": ("body", field), "msg": msg, "input": None}])


def _reject_unsupported_type(filename: str) -> None:
    """Before a byte of the file is stored: no name, or an extension we never accept."""
    if not filename:
        raise _field_error("file", "the file has no name", "value_error")
    if Path(filename).suffix.lower() not in ALLOWED_EXTENSIONS:
        try:  # the one validation's own message: its first check is the extension, so it raises there
            check_file_type(Path(filename), filename)
        except InvalidAudio as exc:
            raise _error(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from None


async def _by_idempotency_key(db: AsyncSession, therapist_id: str, key: str) -> SessionRecord | None:
    query = select(SessionRecord).where(
        col(SessionRecord.therapist_id) == therapist_id, col(SessionRecord.idempotency_key) == key
    )
    return (await db.exec(query)).first()


def _replay(response: Response, row: SessionRecord) -> SessionDocument:
    response.headers["Idempotent-Replayed"] = "true"
    return row.to_document()


async def _active_sessions(db: AsyncSession, user_id: str) -> int:
    query = select(func.count()).where(
        col(SessionRecord.therapist_id) == user_id, col(SessionRecord.status).not_in(FINAL_STATUSES)
    )
    return int((await db.exec(query)).one())


def _too_many_active(settings: Settings) -> HTTPException:
    limit = settings.max_active_sessions_per_user
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail=f"you already have {limit} sessions queued or processing; upload again when one has finished",
        headers={"Retry-After": "60"},
    )


async def _stored_hours(db: AsyncSession, user_id: str) -> float:
    query = select(func.coalesce(func.sum(SessionRecord.duration_seconds), 0.0)).where(
        col(SessionRecord.therapist_id) == user_id
    )
    return float((await db.exec(query)).one()) / 3600


async def _validate_audio(settings: Settings, blobs: BlobStore, key: str, filename: str) -> AudioInfo:
    """speech.audio's checks: wrong type or header → 415, undecodable or empty audio → 400."""
    path = blobs.path(key)
    if path.stat().st_size == 0:
        raise _error(status.HTTP_400_BAD_REQUEST, "the file is empty")
    try:
        await asyncio.to_thread(check_file_type, path, filename)
    except InvalidAudio as exc:
        raise _error(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from None
    try:
        return await asyncio.to_thread(probe, path, settings.max_duration_hours * 3600)
    except InvalidAudio as exc:
        raise _error(status.HTTP_400_BAD_REQUEST, str(exc)) from None


def _parse_fields(fields: dict[str, str]) -> tuple[str, str | None, SpeakerHints]:
    patient_id = fields.get("patient_id", "").strip()
    if not patient_id:
        raise _field_error("patient_id")
    session_date = fields.get("session_date") or None
    if session_date is not None:
        try:
            session_date = date.fromisoformat(session_date).isoformat()
        except ValueError:
            raise _field_error("session_date", "expected a date as YYYY-MM-DD", "date_from_datetime_parsing") from None
    try:
        hints = resolve_hints(
            parse_count("num_speakers", fields.get("num_speakers")),
            parse_count("min_speakers", fields.get("min_speakers")),
            parse_count("max_speakers", fields.get("max_speakers")),
            fields.get("session_type"),
        )
    except HintError as exc:
        kind = "int_parsing" if exc.field != "session_type" and "whole number" in exc.message else "value_error"
        raise _field_error(exc.field, exc.message, kind) from None
    return patient_id, session_date, hints


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
    )


@router.post(
    "/upload",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SessionDocument,
    openapi_extra=UPLOAD_BODY,
    responses={
        **ERRORS,
        400: {"model": Message, "description": "Empty, corrupt or truncated audio, or a malformed body."},
        404: {"model": Message, "description": "Unknown patient (or not yours)."},
        413: {"model": Message, "description": "Larger than MAX_UPLOAD_SIZE_MB, or past MAX_STORED_HOURS_PER_USER."},
        429: {"model": Message, "description": "MAX_ACTIVE_SESSIONS_PER_USER already queued or processing."},
        415: {"model": Message, "description": "Not a supported audio type, or content that does not match it."},
        503: {"model": Message, "description": "The workflow service is unavailable."},
    },
)
async def upload_session(
    request: Request,
    response: Response,
    user: CurrentUser,
    db: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    blobs: BlobsDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="Retries with the same key return the session the first request created.",
        ),
    ] = None,
) -> SessionDocument:
    """Upload a recording for one of your patients and start processing it (202, status `queued`).

    The file streams to the blob store with a cap of MAX_UPLOAD_SIZE_MB; it is checked (extension,
    magic bytes, decodable audio) before the session exists. Follow progress on
    `/api/sessions/ws/{id}` or `/api/sessions/{id}/status/stream`.
    """
    if idempotency_key:
        existing = await _by_idempotency_key(db, user.id, idempotency_key)
        if existing is not None:
            return _replay(response, existing)
    # Before anything else takes a connection: a request holding one while it waits for a second
    # deadlocks the pool under concurrent uploads.
    await db.close()  # detach what is loaded and hand the pooled connection back while the body streams in
    # Per-user quota, before a byte of the body is read (checked again once the row exists: races).
    if await _active_sessions(db, user.id) >= settings.max_active_sessions_per_user:
        raise _too_many_active(settings)
    await db.close()
    try:  # a provider that keeps failing (circuit breaker open): refuse before reading the body
        await breaker.check()
    except breaker.BreakerOpen as exc:
        raise HTTPException(503, detail=str(exc), headers={"Retry-After": str(exc.retry_after_s)}) from None

    cap = settings.max_upload_size_mb * MiB
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap + MULTIPART_SLACK:
        raise _error(status.HTTP_413_CONTENT_TOO_LARGE, f"the file is larger than {settings.max_upload_size_mb} MB")

    session_id = str(uuid.uuid4())
    row: SessionRecord | None = None
    keep = False
    try:
        try:
            parsed = await receive_upload(
                request.stream(),
                request.headers.get("content-type"),
                blobs.path(f"{session_id}/.upload.partial"),
                cap,
                on_filename=_reject_unsupported_type,
            )
        except UploadTooLarge:
            raise _error(
                status.HTTP_413_CONTENT_TOO_LARGE, f"the file is larger than {settings.max_upload_size_mb} MB"
            ) from None
        except BadUpload as exc:
            raise _error(status.HTTP_400_BAD_REQUEST, str(exc)) from None
        if parsed.filename is None:
            raise _field_error("file")
        patient_id, session_date, hints = _parse_fields(parsed.fields)
        patient = await db.get(Patient, patient_id)
        if patient is None or patient.therapist_id != user.id:
            raise _error(status.HTTP_404_NOT_FOUND, PATIENT_NOT_FOUND)
        await db.close()  # no connection held through validation (ffprobe decodes the whole file)

        key = upload_key(session_id, parsed.filename)
        os.replace(blobs.path(f"{session_id}/.upload.partial"), blobs.path(key))
        info = await _validate_audio(settings, blobs, key, parsed.filename)
        stored = await _stored_hours(db, user.id)
        await db.close()
        if stored + info.duration_seconds / 3600 > settings.max_stored_hours_per_user:
            raise _error(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"this recording would take your stored audio past the {settings.max_stored_hours_per_user:g} h "
                "quota; delete sessions you no longer need",
            )

        row = SessionRecord(
            id=session_id,
            therapist_id=user.id,
            patient_id=patient.id,
            status="queued",
            audio_filename=parsed.filename,
            upload_ref=key,
            idempotency_key=idempotency_key,
            session_date=session_date,
            num_speakers=hints.num_speakers,
            min_speakers=hints.min_speakers,
            max_speakers=hints.max_speakers,
            session_type=hints.session_type,
            duration_seconds=info.duration_seconds,  # counts toward the stored-hours quota at once
        )
        db.add(row)
        try:
            await db.commit()
        except IntegrityError:
            # A concurrent request with the same Idempotency-Key won: answer with its session.
            await db.rollback()
            row = None
            existing = await _by_idempotency_key(db, user.id, idempotency_key or "")
            if existing is None:
                raise
            return _replay(response, existing)
        if await _active_sessions(db, user.id) > settings.max_active_sessions_per_user:
            raise _too_many_active(settings)  # a concurrent upload got there first; finally removes the row
        try:
            await start_session(temporal, settings, session_input(row))
        except Exception as exc:
            log.error("workflow start failed", extra={"session_id": session_id, "error_type": type(exc).__name__})
            raise _error(status.HTTP_503_SERVICE_UNAVAILABLE, "could not start processing; try again") from None
        keep = True
        log.info("session uploaded", extra={"session_id": session_id, "bytes": parsed.size})
        return row.to_document()
    except ClientDisconnect:
        return Response(status_code=status.HTTP_400_BAD_REQUEST)  # nobody is listening any more
    finally:
        if not keep:
            # Any rejection leaves nothing behind: no file, no row.
            await asyncio.to_thread(blobs.delete_session, session_id)
            if row is not None:
                await _delete_row(db, session_id)


async def _delete_row(db: AsyncSession, session_id: str) -> None:
    await db.rollback()
    found = await db.get(SessionRecord, session_id)
    if found is not None:
        await db.delete(found)
        await db.commit()


# --------------------------------------------------------------------------- reading


def _encode_cursor(row: SessionRecord) -> str:
    raw = json.dumps([row.created_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, sid = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(created), str(sid)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise _error(status.HTTP_400_BAD_REQUEST, "invalid cursor") from None


@router.get("", response_model=SessionList, responses={**ERRORS, 400: {"model": Message}})
async def list_sessions(
    user: CurrentUser,
    db: SessionDep,
    patient_id: Annotated[str | None, Query(max_length=100)] = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    needs_review: Annotated[
        bool | None, Query(description="true: only sessions with an unsigned note or an open risk flag.")
    ] = None,
) -> SessionList:
    """Your sessions, newest first (admins: everyone's); page with `next_cursor`."""
    query = select(SessionRecord).options(defer(SessionRecord.document))  # type: ignore[arg-type]
    if user.role != "admin":
        query = query.where(col(SessionRecord.therapist_id) == user.id)
    if patient_id:
        query = query.where(col(SessionRecord.patient_id) == patient_id)
    if status_:
        query = query.where(col(SessionRecord.status) == status_)
    if needs_review:
        query = query.where(or_(col(SessionRecord.note_status) == "unsigned", col(SessionRecord.open_flags) > 0))
    if cursor:
        created, sid = _decode_cursor(cursor)
        query = query.where(
            or_(
                col(SessionRecord.created_at) < created,
                (col(SessionRecord.created_at) == created) & (col(SessionRecord.id) < sid),
            )
        )
    query = query.order_by(col(SessionRecord.created_at).desc(), col(SessionRecord.id).desc()).limit(limit + 1)
    rows = list((await db.exec(query)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    page = SessionList(
        data=[SessionSummary.model_validate(r) for r in rows],
        next_cursor=_encode_cursor(rows[-1]) if more and rows else None,
    )
    await record(db, user, "session.list", patient_id=patient_id)
    return page


@router.get("/{session_id}", response_model=SessionDocument, responses=ERRORS)
async def get_session(session_id: str, request: Request, user: CurrentUser, db: SessionDep) -> SessionDocument:
    """The session document (docs/ARCHITECTURE.md §5); while it runs, status and progress are live."""
    row = await visible_session(db, user, session_id)
    doc = row.to_document()
    await record(db, user, "session.read", session_id=row.id, patient_id=row.patient_id)
    if row.status in FINAL_STATUSES:
        return doc
    await db.close()
    # A session some client is watching already has a fresh snapshot here; otherwise ask the workflow.
    live: tuple[str, int] | None = None
    snap = request.app.state.progress.latest(session_id)
    if snap is not None:
        live = (snap.status, snap.progress)
    else:
        with contextlib.suppress(TemporalUnavailable):
            p = await live_progress(await request.app.state.temporal.get(timeout=2.0), session_id)
            live = (p.status, p.progress) if p is not None else None
    if live is not None and live[0] not in FINAL_STATUSES:
        doc.status, doc.progress = live[0], max(doc.progress, live[1])  # type: ignore[assignment]
    return doc


# --------------------------------------------------------------------------- control


def _is_not_found(exc: RPCError) -> bool:
    return exc.status == RPCStatusCode.NOT_FOUND


async def _wait_closed(client: Client, session_id: str, timeout: float) -> bool:
    """Until the session's workflow is no longer running (a run that has saved its outcome closes a
    moment later); False if it still runs after `timeout`."""
    handle = client.get_workflow_handle(workflow_id(session_id))
    deadline = asyncio.get_running_loop().time() + max(0.0, timeout)
    while True:
        try:
            if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                return True
        except RPCError as exc:
            if _is_not_found(exc):
                return True
            raise
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(0.2)


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
        raise _error(status.HTTP_409_CONFLICT, f"the session is already {row.status}")
    await record(db, user, "session.cancel", session_id=row.id, patient_id=row.patient_id)
    await db.close()
    try:
        await temporal.get_workflow_handle(workflow_id(session_id)).cancel(reason="cancelled by user")
    except RPCError as exc:
        if not _is_not_found(exc) and exc.status != RPCStatusCode.FAILED_PRECONDITION:
            raise
        await record_outcome(session_id, "cancelled", None)  # nothing runs: record it ourselves
    # Done means both: the outcome is recorded and the workflow has closed (so a retry can start at once).
    deadline = asyncio.get_running_loop().time() + CANCEL_WAIT_S
    while True:
        fresh = await load_row(session_id)
        if fresh is None:
            raise _error(status.HTTP_404_NOT_FOUND, "session not found")
        if fresh.status in FINAL_STATUSES or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.2)
    closed = await _wait_closed(temporal, session_id, deadline - asyncio.get_running_loop().time())
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
    if row.status not in RETRYABLE and await reconcile(temporal, row.id, row.updated_at):
        await db.refresh(row)  # its workflow was closed from outside (e.g. Terminate): now `failed`
    if row.status not in RETRYABLE:
        raise _error(
            status.HTTP_409_CONFLICT, f"only failed or cancelled sessions can be retried (this one is {row.status})"
        )
    if not row.upload_ref or not blobs.exists(row.upload_ref):
        raise _error(status.HTTP_409_CONFLICT, "the original upload is no longer stored; upload the file again")
    await db.close()
    if not await _wait_closed(temporal, session_id, CANCEL_WAIT_S):  # the last run is still finishing
        raise _error(status.HTTP_409_CONFLICT, "the session is still running")
    previous = {"status": row.status, "error": row.error, "progress": row.progress}
    # Claim the retry atomically: of two concurrent retries, one wins and the other gets 409.
    claimed = await db.exec(
        update(SessionRecord)
        .where(col(SessionRecord.id) == session_id, col(SessionRecord.status).in_(RETRYABLE))
        .values(status="queued", progress=0, error=None, updated_at=datetime.now(UTC))
    )
    await db.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise _error(status.HTTP_409_CONFLICT, "the session is already being retried")
    # A signed note survives a retry: the new run's save adds its notes as a draft beside it.
    await record(db, user, "session.retry", session_id=row.id, patient_id=row.patient_id)
    try:
        await start_session(temporal, settings, session_input(row))
    except Exception as exc:
        await db.exec(update(SessionRecord).where(col(SessionRecord.id) == session_id).values(**previous))
        await db.commit()
        if isinstance(exc, WorkflowAlreadyStartedError):
            raise _error(status.HTTP_409_CONFLICT, "the session is already running") from None
        log.error("workflow restart failed", extra={"session_id": session_id, "error_type": type(exc).__name__})
        raise _error(status.HTTP_503_SERVICE_UNAVAILABLE, "could not start processing; try again") from None
    # The old outcome's document goes only once the new run is on its way.
    await db.exec(
        update(SessionRecord)
        .where(col(SessionRecord.id) == session_id)
        .values(document=None, processed_at=None, duration_seconds=None)
    )
    await db.commit()
    fresh = await load_row(session_id)
    if fresh is None:
        raise _error(status.HTTP_404_NOT_FOUND, "session not found")
    return fresh.to_document()


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
        running = await _stop_and_forget(client, settings, session_id)
    except (TemporalUnavailable, RPCError) as exc:
        if running:
            raise _error(
                status.HTTP_503_SERVICE_UNAVAILABLE, "cannot reach the workflow service to stop the session"
            ) from exc
        log.warning("workflow history not deleted", extra={"session_id": session_id, "error_type": type(exc).__name__})
    await asyncio.to_thread(blobs.delete_session, session_id)
    await db.delete(row)
    await signoff.delete_for_session(db, session_id)  # note versions and flag reviews are PHI too
    db.add(DeletedSession(id=session_id, deleted_at=time.time()))  # a late save must not bring it back
    db.add(AuditEvent(user_id=user.id, action="session.delete", session_id=session_id, patient_id=row.patient_id))
    await db.commit()
    if running:
        # An activity that was mid-flight when the workflow stopped can still write a file or the row
        # (it learns of the stop at its next heartbeat); sweep again once that has surely happened.
        sweep = asyncio.create_task(_sweep_later(session_id, blobs, (3.0, settings.heartbeat_timeout_s + 5)))
        request.app.state.background.add(sweep)
        sweep.add_done_callback(request.app.state.background.discard)
    log.info("session deleted", extra={"session_id": session_id})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _stop_and_forget(client: Client, settings: Settings, session_id: str) -> bool:
    """Terminate the workflow if it runs, then delete its history (every run). True if it was running."""
    wid = workflow_id(session_id)
    handle = client.get_workflow_handle(wid)
    try:
        desc = await handle.describe()
    except RPCError as exc:
        if _is_not_found(exc):
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
            if not _is_not_found(exc):
                raise
    return running


async def _sweep_later(session_id: str, blobs: BlobStore, delays: tuple[float, ...]) -> None:
    waited = 0.0
    for delay in delays:
        await asyncio.sleep(max(0.0, delay - waited))
        waited = delay
        await asyncio.to_thread(blobs.delete_session, session_id)
        async with session_scope() as db:
            found = await db.get(SessionRecord, session_id)
            if found is not None:
                await db.delete(found)
            await signoff.delete_for_session(db, session_id)  # a late save's drafts too
            await db.commit()
