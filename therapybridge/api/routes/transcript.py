"""Correcting a processed session's transcript (issue 16): fix misheard words, give a line to the
other speaker, undo (a new version equal to an older one). Every change is a version; the machine
transcript stays as version 1. The notes are rebuilt from the corrected text by RenotesWorkflow
(a signed note is never overwritten: the rebuilt note is a draft beside it)."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.service import RPCError

from therapybridge import transcript_versions as tv
from therapybridge.api import runs
from therapybridge.api.deps import CurrentUser, SessionDep, SettingsDep, TemporalUnavailable, visible_session
from therapybridge.api.models import Message
from therapybridge.api.routes.audit import record
from therapybridge.db import SessionRecord, TranscriptVersion, User
from therapybridge.document import Segment, SessionDocument, Speaker
from therapybridge.domain.transcript_edits import EditError, LineEdit, apply_edits, roles_changed
from therapybridge.settings import Settings

log = logging.getLogger("therapybridge.api.transcript")
router = APIRouter(prefix="/api/sessions", tags=["transcript"])
ERRORS: dict[int | str, dict] = {
    400: {"model": Message, "description": "No such line or speaker, or an empty line."},
    401: {"model": Message},
    403: {"model": Message, "description": "Not the session's clinician (administrators may read only)."},
    404: {"model": Message, "description": "No such session (or not yours)."},
    409: {"model": Message, "description": "Not processed, or the transcript changed since it was read."},
}
NotesStatus = Literal["pending", "done", "failed", "not_started"]


class LineEditBody(BaseModel):
    index: int = Field(ge=0, description="The line's position in transcript_segments.")
    text: str | None = Field(default=None, max_length=5000, description="The corrected words.")
    speaker: str | None = Field(default=None, max_length=40, description="Another speaker's label.")


class TranscriptEdit(BaseModel):
    base_version: int | None = Field(default=None, description="The version you edited (409 if it changed).")
    edits: list[LineEditBody] = Field(default_factory=list, max_length=500)


class Revert(BaseModel):
    version: int = Field(ge=1, description="The version to go back to (1: the machine transcript).")
    base_version: int | None = None


class VersionInfo(BaseModel):
    version: int
    source: Literal["machine", "edit", "roles", "revert"]
    based_on: int | None = None
    changed: int = 0
    notes_status: NotesStatus | None = None
    created_by: str | None = None
    created_at: float


class TranscriptState(BaseModel):
    version: int  # the document's transcript
    notes_status: NotesStatus | None = None  # the notes rebuilt from it: pending until RenotesWorkflow is done
    versions: list[VersionInfo]


class TranscriptVersionPublic(VersionInfo):
    segments: list[Segment]
    speakers: list[Speaker]


def _info(v: TranscriptVersion) -> VersionInfo:
    return VersionInfo.model_validate(v, from_attributes=True)


def state(vs: list[TranscriptVersion]) -> TranscriptState:
    return TranscriptState(
        version=tv.current_version(vs),
        notes_status=vs[-1].notes_status if vs else None,  # type: ignore[arg-type]
        versions=[_info(v) for v in vs],
    )


async def check_base(db: AsyncSession, session_id: str, base_version: int | None) -> None:
    try:
        await tv.check_base(db, session_id, base_version)
    except tv.StaleVersion as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None


async def processed(db: AsyncSession, user: User, session_id: str, *, change: bool) -> SessionRecord:
    row = await visible_session(db, user, session_id)
    if row.status != "processed":
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"the session is {row.status}, not processed")
    if change and row.therapist_id != user.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only the session's clinician can correct it")
    return row


async def commit_version(
    db: AsyncSession,
    request: Request,
    settings: Settings,
    user: User,
    row: SessionRecord,
    base_version: int | None,
    segments: list[Segment],
    speakers: list[Speaker],
    *,
    source: str,
    changed: int,
    renotes: bool,
    action: str | None = None,
) -> TranscriptVersion:
    """Record the version with its audit event (one commit), then start the re-notes."""
    try:
        v = await tv.add_version(
            db, row, base_version, segments, speakers, source=source, changed=changed, user_id=user.id, renotes=renotes
        )
        db.add(row)
        action = action or f"transcript.{source}"
        await record(db, user, action, session_id=row.id, patient_id=row.patient_id, ref=f"transcript:{v.version}")
    except tv.StaleVersion as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    except IntegrityError:
        await db.rollback()
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail="changed by another request at the same time; reload"
        ) from None
    if renotes:
        await start_renotes(db, request, settings, row.id, v)
    return v


async def start_renotes(
    db: AsyncSession, request: Request, settings: Settings, session_id: str, v: TranscriptVersion
) -> None:
    try:
        await runs.start_renotes(request.app.state.temporal, settings, session_id, v.version)
        return
    except (TemporalUnavailable, RPCError) as exc:  # the correction stands; the notes can be rebuilt later
        log.warning("re-notes not started", extra={"session_id": session_id, "error_type": type(exc).__name__})
    v.notes_status = "not_started"
    db.add(v)
    await db.commit()


@router.get("/{session_id}/transcript/versions", response_model=TranscriptState, responses=ERRORS)
async def transcript_versions(session_id: str, user: CurrentUser, db: SessionDep) -> TranscriptState:
    """The transcript's versions (1 is the machine's) and whether the notes are rebuilt from the newest."""
    row = await processed(db, user, session_id, change=False)
    vs = await tv.history(db, row.id)
    await record(db, user, "transcript.versions", session_id=row.id, patient_id=row.patient_id)
    return state(vs)


@router.get("/{session_id}/transcript", response_model=TranscriptVersionPublic, responses=ERRORS)
async def transcript_version(
    session_id: str,
    user: CurrentUser,
    db: SessionDep,
    version: Annotated[int | None, Query(ge=1, description="Default: the current one; 1: the machine's.")] = None,
) -> TranscriptVersionPublic:
    """One version of the transcript, with its lines and speakers."""
    row = await processed(db, user, session_id, change=False)
    vs = await tv.history(db, row.id)
    await record(db, user, "transcript.read", session_id=row.id, patient_id=row.patient_id)
    wanted = version or tv.current_version(vs)
    found = next((v for v in vs if v.version == wanted), None)
    if found is None and wanted == tv.MACHINE and not vs:  # never corrected: the document is the machine's
        doc = row.to_document()
        return TranscriptVersionPublic(
            version=tv.MACHINE, source="machine", created_at=doc.processed_at.timestamp() if doc.processed_at else 0.0,
            segments=doc.transcript_segments, speakers=doc.speakers,
        )  # fmt: skip
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such transcript version")
    return TranscriptVersionPublic(
        **_info(found).model_dump(), segments=tv.segments_of(found), speakers=tv.speakers_of(found)
    )


@router.patch("/{session_id}/transcript", response_model=SessionDocument, responses=ERRORS)
async def edit_transcript(
    session_id: str, body: TranscriptEdit, request: Request, user: CurrentUser, db: SessionDep, settings: SettingsDep
) -> SessionDocument:
    """Correct lines: new words, or the other speaker. A new version; the notes are rebuilt from it
    (poll `/transcript/versions` until `notes_status` is `done`)."""
    row = await processed(db, user, session_id, change=True)
    if not body.edits:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="no edits")
    await check_base(db, row.id, body.base_version)
    doc = row.to_document()
    try:
        segments, changed = apply_edits(
            doc.transcript_segments, doc.speakers, [LineEdit(e.index, e.text, e.speaker) for e in body.edits]
        )
    except EditError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(exc)) from None
    if not changed:
        return doc
    await commit_version(
        db,
        request,
        settings,
        user,
        row,
        body.base_version,
        segments,
        doc.speakers,
        source="edit",
        changed=changed,
        renotes=True,
    )
    return row.to_document()


@router.post("/{session_id}/transcript/revert", response_model=SessionDocument, responses=ERRORS)
async def revert_transcript(
    session_id: str, body: Revert, request: Request, user: CurrentUser, db: SessionDep, settings: SettingsDep
) -> SessionDocument:
    """Undo: a new version with the lines and speakers (names and roles) of an older one; the notes
    are rebuilt from it."""
    row = await processed(db, user, session_id, change=True)
    vs = await tv.history(db, row.id)
    old = next((v for v in vs if v.version == body.version), None)
    if old is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such transcript version")
    doc = row.to_document()
    segments, speakers = tv.segments_of(old), tv.speakers_of(old)
    changed = sum(1 for a, b in zip(segments, doc.transcript_segments, strict=False) if a != b)
    renotes = changed > 0 or roles_changed(doc.speakers, speakers)
    await commit_version(
        db,
        request,
        settings,
        user,
        row,
        body.base_version,
        segments,
        speakers,
        source="revert",
        changed=changed,
        renotes=renotes,
    )
    return row.to_document()


@router.post("/{session_id}/transcript/renotes", response_model=TranscriptState, responses=ERRORS, status_code=202)
async def rebuild_notes(
    session_id: str, request: Request, user: CurrentUser, db: SessionDep, settings: SettingsDep
) -> TranscriptState:
    """Rebuild the notes from the current transcript again (after `failed` or `not_started`)."""
    row = await processed(db, user, session_id, change=True)
    vs = await tv.history(db, row.id)
    if not vs:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="the transcript has not been corrected")
    vs[-1].notes_status = "pending"
    db.add(vs[-1])
    await record(db, user, "transcript.renotes", session_id=row.id, patient_id=row.patient_id)
    await start_renotes(db, request, settings, row.id, vs[-1])
    db.expire_all()  # the re-notes may already have written the version (in other sessions)
    return state(await tv.history(db, session_id))
