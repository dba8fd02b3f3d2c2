"""Sign-off of a processed session (issue 17): edit and sign the clinical note (amend a signed one),
edit and approve the client summary (only an approved one is exported for the client), acknowledge
or dismiss each risk flag with a reason, and the record of every action on the session.

The rules are in therapybridge.signoff; every change is committed together with its audit event
(who, when, what: a reference to the version or review that holds the change, never the text)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import PlainTextResponse
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from therapybridge import signoff
from therapybridge.api import crud
from therapybridge.api.deps import CurrentUser, SessionDep, visible_session
from therapybridge.api.models import (
    Amendment,
    Finalise,
    FlagDecision,
    FlagState,
    HistoryEntry,
    Message,
    NoteDraft,
    SignoffState,
    SummaryDraft,
    VersionPublic,
)
from therapybridge.api.routes.audit import record
from therapybridge.api.signoff_views import diffs, flag_states, history_entries, signoff_state_of, version_public
from therapybridge.db import NoteVersion, SessionRecord, User

router = APIRouter(prefix="/api/sessions", tags=["sign-off"])
ERRORS: dict[int | str, dict] = {
    401: {"model": Message},
    403: {"model": Message, "description": "Not the session's clinician (administrators may read only)."},
    404: {"model": Message, "description": "No such session (or not yours)."},
    409: {"model": Message, "description": "Not processed, locked (signed), or changed since it was read."},
}


# --------------------------------------------------------------------------- helpers


def _http(exc: signoff.SignoffError) -> HTTPException:
    return HTTPException(exc.status, detail=exc.detail)


async def _processed(db: AsyncSession, user: User, session_id: str) -> SessionRecord:
    row = await visible_session(db, user, session_id)
    if row.status != "processed":
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"the session is {row.status}, not processed")
    if signoff.notes_of(row) is None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="the session has no notes")
    await signoff.ensure_drafts(db, row)
    return row


async def _own(db: AsyncSession, user: User, session_id: str) -> SessionRecord:
    """For changes: the session's own clinician only (an administrator reads but does not sign)."""
    row = await _processed(db, user, session_id)
    if row.therapist_id != user.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only the session's clinician can sign off its notes")
    return row


async def _commit(db: AsyncSession, user: User, row: SessionRecord, action: str, ref: str) -> None:
    """The change, the row's sign-off columns and the audit event, in one commit."""
    await signoff.refresh(db, row)
    try:
        await record(db, user, action, session_id=row.id, patient_id=row.patient_id, ref=ref)
    except IntegrityError:
        await db.rollback()
        detail = "changed by another request at the same time; reload"
        raise HTTPException(status.HTTP_409_CONFLICT, detail=detail) from None


async def _one(db: AsyncSession, v: NoteVersion) -> VersionPublic:
    return version_public(v, await signoff.emails(db, {v.created_by, v.signed_by}))


async def _versioned(
    db: AsyncSession,
    user: User,
    row: SessionRecord,
    action: str,
    change: Awaitable[NoteVersion],
    *,
    only_if_new: bool = False,
) -> VersionPublic:
    """Run a note/summary change, record it with a ref to its version, and return that version.
    `only_if_new`: an edit that saved nothing (unchanged text) records nothing either."""
    try:
        v = await change
    except signoff.SignoffError as exc:
        raise _http(exc) from None
    if not only_if_new or v.id is None:
        await _commit(db, user, row, action, f"{action.split('.')[0]}:{v.version}")
    return await _one(db, v)


# --------------------------------------------------------------------------- state


@router.get("/{session_id}/signoff", response_model=SignoffState, responses=ERRORS)
async def signoff_state(session_id: str, user: CurrentUser, db: SessionDep) -> SignoffState:
    """Where the session's sign-off stands: the current and the signed note, the current and the
    approved client summary, and every risk flag with its review. The first time, the engine's drafts
    are created (SOAP for the note)."""
    row = await _processed(db, user, session_id)
    kinds = {k: await signoff.versions(db, row.id, k) for k in ("note", "summary")}
    reviews = await signoff.latest_reviews(db, row.id)
    ids = {u for vs in kinds.values() for v in vs for u in (v.created_by, v.signed_by)} | {
        r.user_id for r in reviews.values()
    }
    who = await signoff.emails(db, ids)
    result = signoff_state_of(row, kinds, reviews, who)
    await record(db, user, "session.signoff", session_id=row.id, patient_id=row.patient_id)
    return result


# --------------------------------------------------------------------------- the note


@router.put("/{session_id}/note", response_model=VersionPublic, responses=ERRORS)
async def edit_note(session_id: str, body: NoteDraft, user: CurrentUser, db: SessionDep) -> VersionPublic:
    """Save an edit of the clinical note as a new draft version (the one it replaces is kept).
    409 when the note is signed (amend it) or was changed since `base_version`."""
    row = await _own(db, user, session_id)
    change = signoff.save_draft(db, row, user, "note", body.text, body.base_version, body.format)
    return await _versioned(db, user, row, "note.edit", change, only_if_new=True)


@router.post("/{session_id}/note/sign", response_model=VersionPublic, responses=ERRORS)
async def sign_note(session_id: str, body: Finalise, user: CurrentUser, db: SessionDep) -> VersionPublic:
    """Sign the current draft: from now on that version is locked."""
    row = await _own(db, user, session_id)
    return await _versioned(db, user, row, "note.sign", signoff.finalise(db, row, user, "note", body.version))


@router.post("/{session_id}/note/amend", response_model=VersionPublic, status_code=201, responses=ERRORS)
async def amend_note(session_id: str, body: Amendment, user: CurrentUser, db: SessionDep) -> VersionPublic:
    """Amend the signed note: a new draft version with the reason; the signed one stays unchanged."""
    row = await _own(db, user, session_id)
    change = signoff.amend(db, row, user, body.reason, body.text, body.format)
    return await _versioned(db, user, row, "note.amend", change)


# --------------------------------------------------------------------------- the client summary


@router.put("/{session_id}/summary", response_model=VersionPublic, responses=ERRORS)
async def edit_summary(session_id: str, body: SummaryDraft, user: CurrentUser, db: SessionDep) -> VersionPublic:
    """Save an edit of the client summary as a new draft version; it must be approved before export."""
    row = await _own(db, user, session_id)
    change = signoff.save_draft(db, row, user, "summary", body.text, body.base_version, None)
    return await _versioned(db, user, row, "summary.edit", change, only_if_new=True)


@router.post("/{session_id}/summary/approve", response_model=VersionPublic, responses=ERRORS)
async def approve_summary(session_id: str, body: Finalise, user: CurrentUser, db: SessionDep) -> VersionPublic:
    """Approve the current version of the client summary for the client."""
    row = await _own(db, user, session_id)
    change = signoff.finalise(db, row, user, "summary", body.version)
    return await _versioned(db, user, row, "summary.approve", change)


@router.get(
    "/{session_id}/client-summary.txt",
    response_class=PlainTextResponse,
    responses={**ERRORS, 200: {"content": {"text/plain": {}}}},
)
async def export_client_summary(session_id: str, user: CurrentUser, db: SessionDep) -> PlainTextResponse:
    """The client summary for the client: only its current version, and only once approved (409
    while it is the engine's draft or an unapproved edit)."""
    row = await _processed(db, user, session_id)
    try:
        v = await signoff.exportable_summary(db, row)
    except signoff.SignoffError as exc:
        raise _http(exc) from None
    await record(db, user, "summary.export", session_id=row.id, patient_id=row.patient_id, ref=f"summary:{v.version}")
    disposition = f'attachment; filename="session-{row.id}-client-summary.txt"'
    return PlainTextResponse(v.text.rstrip("\n") + "\n", headers={"Content-Disposition": disposition})


@router.get("/{session_id}/{kind}/versions", response_model=list[VersionPublic], responses=ERRORS)
async def list_versions(
    session_id: str, kind: Literal["note", "summary"], user: CurrentUser, db: SessionDep
) -> list[VersionPublic]:
    """Every version of the note (or summary), newest first, each with its diff from the version it
    was edited or amended from."""
    row = await _processed(db, user, session_id)
    vs = await signoff.versions(db, row.id, kind)
    who = await signoff.emails(db, {u for v in vs for u in (v.created_by, v.signed_by)})
    changes = diffs(vs)
    out = [version_public(v, who, changes[v.version]) for v in reversed(vs)]
    await record(db, user, f"{kind}.versions", session_id=row.id, patient_id=row.patient_id)
    return out


# --------------------------------------------------------------------------- risk flags


@router.post("/{session_id}/flags/{flag_id}/review", response_model=FlagState, responses=ERRORS)
async def review_flag(
    session_id: str, flag_id: str, body: FlagDecision, user: CurrentUser, db: SessionDep
) -> FlagState:
    """Acknowledge or dismiss a risk flag, with a reason. A later review replaces the state (the
    earlier one stays in the history)."""
    row = await _own(db, user, session_id)
    try:
        _flag, review = await signoff.review_flag(db, row, user, flag_id[:64], body.decision, body.reason)
    except signoff.SignoffError as exc:
        raise _http(exc) from None
    action = "flag.acknowledge" if body.decision == "acknowledged" else "flag.dismiss"
    await _commit(db, user, row, action, f"flag:{review.flag_id}:{review.id}")
    states = flag_states(row, await signoff.latest_reviews(db, row.id), {user.id: user.email})
    return next(s for s in states if s.id == review.flag_id)


# --------------------------------------------------------------------------- history


@router.get("/{session_id}/history", response_model=list[HistoryEntry], responses=ERRORS)
async def session_history(
    session_id: str,
    user: CurrentUser,
    db: SessionDep,
    include_reads: Annotated[bool, Query(description="Also list who read or exported what.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[HistoryEntry]:
    """Every action on the session, newest first: who, when, what (edits with their diff, reasons of
    amendments and flag reviews). Reads are left out unless `include_reads`."""
    row = await visible_session(db, user, session_id)
    events = await crud.session_events(db, row.id, include_reads=include_reads, limit=limit)
    kinds = {k: await signoff.versions(db, row.id, k) for k in ("note", "summary")}
    reviews = await crud.flag_reviews(db, row.id)
    who = await signoff.emails(db, {e.user_id for e in events})
    out = history_entries(events, kinds, reviews, who)
    await record(db, user, "session.history", session_id=row.id, patient_id=row.patient_id)
    return out
