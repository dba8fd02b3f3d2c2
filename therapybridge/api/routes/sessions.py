"""Sessions: upload (streamed, capped, validated), list and read. Control (cancel, retry, delete)
is in routes.control; SQL in api.crud, Temporal calls in api.runs, upload checks in api.intake."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from sqlalchemy.exc import IntegrityError
from starlette.requests import ClientDisconnect

from therapybridge import breaker
from therapybridge.api import crud, intake, runs
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
from therapybridge.api.intake import MiB, error
from therapybridge.api.limits import MULTIPART_SLACK
from therapybridge.api.models import Message, SessionList, SessionSummary
from therapybridge.api.routes.audit import record
from therapybridge.api.upload import BadUpload, UploadTooLarge, receive_upload
from therapybridge.blobs import upload_key
from therapybridge.db import Patient, SessionRecord
from therapybridge.document import FINAL_STATUSES, SessionDocument, Status

log = logging.getLogger("therapybridge.api.sessions")
router = APIRouter(prefix="/api/sessions", tags=["sessions"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Message, "description": "Missing, expired or invalid token."},
    404: {"model": Message, "description": "No such session (or not yours)."},
}


def _replay(response: Response, row: SessionRecord) -> SessionDocument:
    response.headers["Idempotent-Replayed"] = "true"
    return row.to_document()


@router.post(
    "/upload",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SessionDocument,
    openapi_extra=intake.UPLOAD_BODY,
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
        existing = await crud.by_idempotency_key(db, user.id, idempotency_key)
        if existing is not None:
            return _replay(response, existing)
    # Before anything else takes a connection: a request holding one while it waits for a second
    # deadlocks the pool under concurrent uploads.
    await db.close()  # detach what is loaded and hand the pooled connection back while the body streams in
    # Per-user quota, before a byte of the body is read (checked again once the row exists: races).
    if await crud.active_sessions(db, user.id) >= settings.max_active_sessions_per_user:
        raise intake.too_many_active(settings)
    await db.close()
    try:  # a provider that keeps failing (circuit breaker open): refuse before reading the body
        await breaker.check()
    except breaker.BreakerOpen as exc:
        raise HTTPException(503, detail=str(exc), headers={"Retry-After": str(exc.retry_after_s)}) from None

    cap = settings.max_upload_size_mb * MiB
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap + MULTIPART_SLACK:
        raise intake.too_large(settings)

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
                on_filename=intake.reject_unsupported_type,
            )
        except UploadTooLarge:
            raise intake.too_large(settings) from None
        except BadUpload as exc:
            raise error(status.HTTP_400_BAD_REQUEST, str(exc)) from None
        if parsed.filename is None:
            raise intake.field_error("file")
        patient_id, session_date, hints = intake.parse_fields(parsed.fields)
        keep_audio = intake.parse_keep_audio(parsed.fields.get("keep_audio"))
        patient = await db.get(Patient, patient_id)
        if patient is None or patient.therapist_id != user.id:
            raise error(status.HTTP_404_NOT_FOUND, PATIENT_NOT_FOUND)
        await db.close()  # no connection held through validation (ffprobe decodes the whole file)

        key = upload_key(session_id, parsed.filename)
        os.replace(blobs.path(f"{session_id}/.upload.partial"), blobs.path(key))
        info = await intake.validate_audio(settings, blobs, key, parsed.filename)
        stored = await crud.stored_hours(db, user.id)
        await db.close()
        if stored + info.duration_seconds / 3600 > settings.max_stored_hours_per_user:
            raise intake.over_stored_quota(settings)

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
            keep_audio=keep_audio,
            duration_seconds=info.duration_seconds,  # counts toward the stored-hours quota at once
        )
        db.add(row)
        try:
            await db.commit()
        except IntegrityError:
            # A concurrent request with the same Idempotency-Key won: answer with its session.
            await db.rollback()
            row = None
            existing = await crud.by_idempotency_key(db, user.id, idempotency_key or "")
            if existing is None:
                raise
            return _replay(response, existing)
        if await crud.active_sessions(db, user.id) > settings.max_active_sessions_per_user:
            raise intake.too_many_active(settings)  # a concurrent upload got there first; finally removes the row
        try:
            await runs.start(temporal, settings, row)
        except Exception as exc:
            log.error("workflow start failed", extra={"session_id": session_id, "error_type": type(exc).__name__})
            raise error(status.HTTP_503_SERVICE_UNAVAILABLE, "could not start processing; try again") from None
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
                await crud.delete_row(db, session_id)


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
    try:
        rows, next_cursor = await crud.list_page(
            db, user, patient_id=patient_id, status=status_, needs_review=needs_review, cursor=cursor, limit=limit
        )
    except crud.BadCursor as exc:
        raise error(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    page = SessionList(data=[SessionSummary.model_validate(r) for r in rows], next_cursor=next_cursor)
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
            p = await runs.live_progress(await request.app.state.temporal.get(timeout=2.0), session_id)
            live = (p.status, p.progress) if p is not None else None
    if live is not None and live[0] not in FINAL_STATUSES:
        doc.status, doc.progress = live[0], max(doc.progress, live[1])  # type: ignore[assignment]
    return doc
