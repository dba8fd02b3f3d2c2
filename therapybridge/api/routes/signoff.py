"""Sign-off of a processed session (issue 17): edit and sign the clinical note (amend a signed one),
edit and approve the client summary (only an approved one is exported for the client), acknowledge
or dismiss each risk flag with a reason, and the record of every action on the session.

The rules are in therapybridge.signoff; every change is committed together with its audit event
(who, when, what: a reference to the version or review that holds the change, never the text)."""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from therapybridge import signoff
from therapybridge.api.deps import CurrentUser, SessionDep, visible_session
from therapybridge.api.models import Message
from therapybridge.api.routes.audit import record
from therapybridge.db import AuditEvent, FlagReview, NoteVersion, SessionRecord, User
from therapybridge.domain.note_formats import Format
from therapybridge.domain.signoff import FINAL_STATUS, diff, make_flag_id

router = APIRouter(prefix="/api/sessions", tags=["sign-off"])
ERRORS: dict[int | str, dict] = {
    401: {"model": Message},
    403: {"model": Message, "description": "Not the session's clinician (administrators may read only)."},
    404: {"model": Message, "description": "No such session (or not yours)."},
    409: {"model": Message, "description": "Not processed, locked (signed), or changed since it was read."},
}
MAX_TEXT = 100_000  # a note, not a book
MAX_REASON = 2_000
# Reads stay in the audit log but are left out of a session's history unless asked for.
READ_ACTIONS = frozenset(
    {"session.read", "session.list", "session.notes", "session.audio", "session.signoff", "session.history",
     "note.versions", "summary.versions", "transcript.versions", "transcript.read"}
)  # fmt: skip


def _clean(value: str, *, multiline: bool) -> str:
    allowed = {"\n", "\t", "\r"} if multiline else set()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") and ch not in allowed for ch in value):
        raise ValueError("must not contain control characters")
    return value


# --------------------------------------------------------------------------- bodies


class VersionPublic(BaseModel):
    kind: Literal["note", "summary"]
    version: int
    status: Literal["draft", "signed", "approved", "superseded"]
    format: Format | None = None
    text: str
    source: Literal["engine", "clinician", "amendment", "reprocess"]
    based_on: int | None = None
    reason: str | None = None
    created_by: str | None = None
    created_by_email: str | None = None
    created_at: float
    signed_by: str | None = None
    signed_by_email: str | None = None
    signed_at: float | None = None
    diff: str | None = Field(default=None, description="Unified diff from the version it is based on (version lists).")


class KindState(BaseModel):
    current: VersionPublic | None = Field(description="The newest version: the one to edit, sign or approve.")
    final: VersionPublic | None = Field(description="The newest signed note / approved summary, if any.")
    versions: int


class FlagState(BaseModel):
    id: str
    type: str
    severity: str
    quote: str
    start: float
    end: float
    speaker: str
    source: str
    rationale: str = ""
    status: Literal["open", "acknowledged", "dismissed"]
    reason: str | None = None
    reviewed_by: str | None = None
    reviewed_by_email: str | None = None
    reviewed_at: float | None = None


class SignoffState(BaseModel):
    session_id: str
    note_status: Literal["unsigned", "signed"] | None
    open_flags: int
    note: KindState
    summary: KindState
    flags: list[FlagState]
    summary_exportable: bool


class NoteDraft(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    format: Format | None = Field(default=None, description="Default: the current version's format.")
    base_version: int | None = Field(description="The version this edit starts from (null: there is none yet).")

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        return _clean(v, multiline=True)


class SummaryDraft(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    base_version: int | None

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        return _clean(v, multiline=True)


class Finalise(BaseModel):
    version: int = Field(description="The version being signed / approved: the current one.")


class Amendment(BaseModel):
    reason: str = Field(min_length=1, max_length=MAX_REASON)
    text: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT, description="Default: the signed text.")
    format: Format | None = None

    @field_validator("reason")
    @classmethod
    def _reason(cls, v: str) -> str:
        v = _clean(v, multiline=True).strip()
        if not v:
            raise ValueError("a reason is required")
        return v

    @field_validator("text")
    @classmethod
    def _text(cls, v: str | None) -> str | None:
        return None if v is None else _clean(v, multiline=True)


class FlagDecision(BaseModel):
    decision: Literal["acknowledged", "dismissed"]
    reason: str = Field(min_length=1, max_length=MAX_REASON)

    @field_validator("reason")
    @classmethod
    def _reason(cls, v: str) -> str:
        v = _clean(v, multiline=True).strip()
        if not v:
            raise ValueError("a reason is required")
        return v


class HistoryEntry(BaseModel):
    at: float
    user_id: str
    user_email: str | None
    action: str
    ref: str | None
    detail: str | None = None
    diff: str | None = None


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


def _public(v: NoteVersion, who: dict[str, str], with_diff: str | None = None) -> VersionPublic:
    return VersionPublic(
        kind=v.kind,  # type: ignore[arg-type]
        version=v.version,
        status=v.status,  # type: ignore[arg-type]
        format=v.format,  # type: ignore[arg-type]
        text=v.text,
        source=v.source,  # type: ignore[arg-type]
        based_on=v.based_on,
        reason=v.reason,
        created_by=v.created_by,
        created_by_email=who.get(v.created_by or ""),
        created_at=v.created_at,
        signed_by=v.signed_by,
        signed_by_email=who.get(v.signed_by or ""),
        signed_at=v.signed_at,
        diff=with_diff,
    )


async def _one(db: AsyncSession, v: NoteVersion) -> VersionPublic:
    return _public(v, await signoff.emails(db, {v.created_by, v.signed_by}))


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


def _diffs(vs: list[NoteVersion]) -> dict[int, str | None]:
    by_number = {v.version: v for v in vs}
    out: dict[int, str | None] = {}
    for v in vs:
        base = by_number.get(v.based_on) if v.based_on else None
        out[v.version] = diff(base.text, v.text, f"version {base.version}", f"version {v.version}") if base else None
    return out


def _flag_states(row: SessionRecord, reviews: dict[str, FlagReview], who: dict[str, str]) -> list[FlagState]:
    out = []
    for f in signoff.flags_of(row):
        fid = make_flag_id(f)
        r = reviews.get(fid)
        out.append(
            FlagState(
                id=fid, type=f.type, severity=f.severity, quote=f.quote, start=f.start, end=f.end, speaker=f.speaker,
                source=f.source, rationale=f.rationale, status=r.decision if r else "open",  # type: ignore[arg-type]
                reason=r.reason if r else None, reviewed_by=r.user_id if r else None,
                reviewed_by_email=who.get(r.user_id) if r else None, reviewed_at=r.at if r else None,
            )
        )  # fmt: skip
    return out


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

    def state(kind: str) -> KindState:
        vs = kinds[kind]
        cur, fin = signoff.head(vs), signoff.latest_final(vs, kind)
        return KindState(
            current=_public(cur, who) if cur else None, final=_public(fin, who) if fin else None, versions=len(vs)
        )

    summary_head = signoff.head(kinds["summary"])
    result = SignoffState(
        session_id=row.id,
        note_status=row.note_status,  # type: ignore[arg-type]
        open_flags=row.open_flags or 0,
        note=state("note"),
        summary=state("summary"),
        flags=_flag_states(row, reviews, who),
        summary_exportable=summary_head is not None and summary_head.status == FINAL_STATUS["summary"],
    )
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
    diffs = _diffs(vs)
    out = [_public(v, who, diffs[v.version]) for v in reversed(vs)]
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
    states = _flag_states(row, await signoff.latest_reviews(db, row.id), {user.id: user.email})
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
    query = select(AuditEvent).where(col(AuditEvent.session_id) == row.id)
    if not include_reads:
        query = query.where(col(AuditEvent.action).not_in(READ_ACTIONS))
    query = query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)
    events = list((await db.exec(query)).all())
    kinds = {k: await signoff.versions(db, row.id, k) for k in ("note", "summary")}
    diffs = {k: _diffs(vs) for k, vs in kinds.items()}
    by_ref = {f"{k}:{v.version}": v for k, vs in kinds.items() for v in vs}
    reviews = {
        f"flag:{r.flag_id}:{r.id}": r
        for r in (await db.exec(select(FlagReview).where(col(FlagReview.session_id) == row.id))).all()
    }
    who = await signoff.emails(db, {e.user_id for e in events})
    out = []
    for e in events:
        entry = HistoryEntry(at=e.at, user_id=e.user_id, user_email=who.get(e.user_id), action=e.action, ref=e.ref)
        version = by_ref.get(e.ref or "")
        if version is not None:
            parts = [f"version {version.version}", version.format.upper() if version.format else None]
            if version.reason:
                parts.append(f"reason: {version.reason}")
            entry.detail = ", ".join(p for p in parts if p)
            if e.action.endswith((".edit", ".amend", ".reprocess")):
                entry.diff = diffs[version.kind][version.version]
        review = reviews.get(e.ref or "")
        if review is not None:
            entry.detail = f"{review.decision}: {review.reason}"
        out.append(entry)
    await record(db, user, "session.history", session_id=row.id, patient_id=row.patient_id)
    return out
