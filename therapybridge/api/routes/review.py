"""Reviewing a processed session: clinical note formats, speaker names and roles, the audio, and
enrolling the therapist's voice from a confirmed session."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, PlainTextResponse
from pydantic import BaseModel, Field, field_validator

from therapybridge import voiceprints
from therapybridge.api.deps import BlobsDep, CurrentUser, SessionDep, SettingsDep, StreamUser, visible_session
from therapybridge.api.models import Message
from therapybridge.api.routes.audit import record
from therapybridge.api.routes.transcript import check_base, commit_version
from therapybridge.blobs import SessionKeys
from therapybridge.db import SessionRecord
from therapybridge.document import Role, SessionDocument
from therapybridge.domain.note_formats import render_note
from therapybridge.domain.transcript_edits import names_follow_roles, roles_changed, with_roles

router = APIRouter(prefix="/api/sessions", tags=["review"])
me = APIRouter(prefix="/api/me", tags=["review"])
ERRORS = {401: {"model": Message}, 404: {"model": Message}, 409: {"model": Message}}


def _processed(row: SessionRecord) -> SessionDocument:
    if row.status != "processed":
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"the session is {row.status}, not processed")
    return row.to_document()


@router.get("/{session_id}/notes", response_class=PlainTextResponse, responses=ERRORS)
async def clinical_note(
    session_id: str,
    user: CurrentUser,
    db: SessionDep,
    format: Annotated[Literal["soap", "dap", "birp", "girp"], Query()] = "soap",
) -> PlainTextResponse:
    """The session's notes rendered as a SOAP, DAP, BIRP or GIRP note (plain text)."""
    row = await visible_session(db, user, session_id)
    doc = _processed(row)
    if doc.extracted_notes is None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="the session has no notes")
    await record(db, user, "session.notes", session_id=row.id, patient_id=row.patient_id)
    return PlainTextResponse(render_note(doc.extracted_notes, format, doc.transcript_segments))


MAX_NAME = 80  # a display name, not a document


class SpeakerUpdate(BaseModel):
    """Only the fields sent change: a rename keeps the role, a role fix keeps the name. An explicit
    null (or an empty name) clears the field."""

    label: str = Field(max_length=40)
    role: Role | None = None
    name: str | None = Field(default=None, max_length=MAX_NAME)

    @field_validator("name")
    @classmethod
    def _clean_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
            raise ValueError("the name must not contain control characters")
        return value.strip() or None


class SpeakersUpdate(BaseModel):
    speakers: list[SpeakerUpdate] = Field(max_length=20)
    enroll_therapist_voice: bool = False  # use this session's therapist voice for future sessions
    base_version: int | None = Field(default=None, description="The transcript version you saw (409 if it changed).")


@router.patch("/{session_id}/speakers", response_model=SessionDocument, responses={**ERRORS, 400: {"model": Message}})
async def update_speakers(
    session_id: str,
    body: SpeakersUpdate,
    request: Request,
    user: CurrentUser,
    db: SessionDep,
    blobs: BlobsDep,
    settings: SettingsDep,
) -> SessionDocument:
    """Rename speakers or correct their roles; segments and the labelled transcript follow.

    Names follow the role: when roles are swapped the display names go with them (the therapist's
    name stays on the therapist). Each change is a transcript version (undo: POST
    `/transcript/revert`); a role change rebuilds the notes and risk flags from the new roles."""
    row = await visible_session(db, user, session_id)
    doc = _processed(row)
    known = {s.label for s in doc.speakers}
    unknown = [u.label for u in body.speakers if u.label not in known]
    if unknown:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=f"unknown speaker label(s): {', '.join(unknown)}")
    updates = {u.label: u for u in body.speakers}
    speakers = [
        s.model_copy(update=updates[s.label].model_dump(include=updates[s.label].model_fields_set - {"label"}))
        if s.label in updates
        else s
        for s in doc.speakers
    ]
    named = {u.label for u in body.speakers if "name" in u.model_fields_set}
    speakers = names_follow_roles(doc.speakers, speakers, named)
    if body.enroll_therapist_voice:
        _enroll(blobs, row, [s.label for s in speakers if s.role == "therapist"])
    if speakers == doc.speakers:
        await check_base(db, row.id, body.base_version)
        await record(db, user, "session.update", session_id=row.id, patient_id=row.patient_id)
        return doc
    changed = sum(1 for a, b in zip(speakers, doc.speakers, strict=True) if a != b)
    await commit_version(
        db,
        request,
        settings,
        user,
        row,
        body.base_version,
        with_roles(doc.transcript_segments, speakers),
        speakers,
        source="roles",
        changed=changed,
        renotes=roles_changed(doc.speakers, speakers),
        action="session.update",
    )
    return row.to_document()


def _enroll(blobs: BlobsDep, row: SessionRecord, therapist_labels: list[str]) -> None:
    if len(therapist_labels) != 1 or not row.therapist_id:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="mark exactly one speaker as the therapist to enrol")
    key = SessionKeys(row.id).diarization
    vectors = blobs.read_json(key).get("label_vectors", {}) if blobs.exists(key) else {}
    if therapist_labels[0] not in vectors:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="this session has no voice sample for that speaker")
    voiceprints.add_sample(blobs, row.therapist_id, vectors[therapist_labels[0]])


@router.get("/{session_id}/audio", response_class=FileResponse, responses={**ERRORS, 206: {}})
async def session_audio(session_id: str, user: StreamUser, db: SessionDep, blobs: BlobsDep) -> FileResponse:
    """The kept recording (RETAIN_AUDIO=true), with Range support for the player; `?token=` accepted
    because an <audio> element cannot send headers."""
    row = await visible_session(db, user, session_id)
    candidates = [row.upload_ref, f"{row.id}/audio16k.wav"]
    for key in filter(None, candidates):
        if blobs.exists(key):
            await record(db, user, "session.audio", session_id=row.id, patient_id=row.patient_id)
            return FileResponse(blobs.path(key), filename=f"session-{row.id}{blobs.path(key).suffix}")
    raise HTTPException(status.HTTP_404_NOT_FOUND, detail="the audio of this session was not kept (RETAIN_AUDIO)")


class VoiceprintStatus(BaseModel):
    enrolled: bool


@me.get("/voiceprint", response_model=VoiceprintStatus, responses={401: {"model": Message}})
async def voiceprint_status(user: CurrentUser, blobs: BlobsDep) -> VoiceprintStatus:
    return VoiceprintStatus(enrolled=voiceprints.load(blobs, user.id) is not None)


@me.delete("/voiceprint", status_code=204, responses={401: {"model": Message}})
async def delete_voiceprint(user: CurrentUser, blobs: BlobsDep) -> None:
    """Forget the therapist's voice; roles then come from the conversation alone."""
    voiceprints.delete(blobs, user.id)
