"""Sign-off (issue 17): nothing reaches a client or a record unreviewed.

The clinical note and the client summary are versioned (db.NoteVersion): the engine writes the first
draft, a clinician edits (each save a new version, the draft it replaces kept as `superseded`) and
signs the note / approves the summary. A signed note is locked; an amendment is a new version based
on it. Each risk flag is acknowledged or dismissed with a reason (db.FlagReview). Reprocessing (a
retry, a reset in the Temporal UI, re-running the notes) never overwrites a version: the save
activity adds the engine's new text as a draft beside what the clinician signed.

The API routes (therapybridge.api.routes.signoff) and the save activity call these; they add to the
caller's database session and leave the commit to it (the audit event commits with the change).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from therapybridge.db import AuditEvent, FlagReview, NoteVersion, SessionRecord, User, session_scope
from therapybridge.document import ExtractedNotes, RiskFlag, Segment
from therapybridge.domain.note_formats import Format
from therapybridge.domain.signoff import FINAL_STATUS, KINDS, engine_note, engine_summary, make_flag_id

Kind = Literal["note", "summary"]
SYSTEM_USER = "system"  # the audit log's user for what the pipeline itself does (a reprocess draft)
DEFAULT_FORMAT: Format = "soap"


@dataclass
class SignoffError(Exception):
    status: int
    detail: str


def conflict(detail: str) -> SignoffError:
    return SignoffError(409, detail)


# --------------------------------------------------------------------------- reading


def notes_of(row: SessionRecord) -> ExtractedNotes | None:
    raw = (row.document or {}).get("extracted_notes")
    return ExtractedNotes.model_validate(raw) if raw else None


def segments_of(row: SessionRecord) -> list[Segment]:
    return [Segment.model_validate(s) for s in (row.document or {}).get("transcript_segments") or []]


def flags_of(row: SessionRecord) -> list[RiskFlag]:
    notes = notes_of(row)
    return list(notes.risk_flags) if notes else []


async def versions(db: AsyncSession, session_id: str, kind: str) -> list[NoteVersion]:
    """Every version of the session's note or summary, oldest first."""
    query = (
        select(NoteVersion)
        .where(col(NoteVersion.session_id) == session_id, col(NoteVersion.kind) == kind)
        .order_by(col(NoteVersion.version))
    )
    return list((await db.exec(query)).all())


def head(vs: list[NoteVersion]) -> NoteVersion | None:
    """The current version: the newest (a draft, or the signed / approved one when none follows it)."""
    return vs[-1] if vs else None


def latest_final(vs: list[NoteVersion], kind: str) -> NoteVersion | None:
    """The newest signed note / approved summary (what stands while a later draft is pending)."""
    return next((v for v in reversed(vs) if v.status == FINAL_STATUS[kind]), None)


async def latest_reviews(db: AsyncSession, session_id: str) -> dict[str, FlagReview]:
    query = select(FlagReview).where(col(FlagReview.session_id) == session_id).order_by(col(FlagReview.id))
    return {r.flag_id: r for r in (await db.exec(query)).all()}  # the newest review of each flag wins


async def emails(db: AsyncSession, ids: set[str | None]) -> dict[str, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = (await db.exec(select(User.id, User.email).where(col(User.id).in_(wanted)))).all()
    return {uid: email for uid, email in rows}


# --------------------------------------------------------------------------- drafts from the engine


def _engine_text(row: SessionRecord, kind: str, fmt: Format) -> str | None:
    notes = notes_of(row)
    if notes is None:
        return None
    if kind == "note":
        return engine_note(notes, fmt, segments_of(row))
    return engine_summary(notes)


def _new_version(session_id: str, kind: str, version: int, text: str, source: str, **kw: object) -> NoteVersion:
    return NoteVersion(
        session_id=session_id,
        kind=kind,
        version=version,
        status="draft",
        text=text,
        source=source,
        **kw,  # type: ignore[arg-type]
    )


async def ensure_drafts(db: AsyncSession, row: SessionRecord) -> None:
    """The engine's first drafts of a processed session that has none yet (one saved before sign-off
    existed, or written straight to the database). Commits; a concurrent caller that got there first
    wins."""
    if row.status != "processed" or notes_of(row) is None:
        return
    added = False
    for kind in KINDS:
        if await versions(db, row.id, kind):
            continue
        text = _engine_text(row, kind, DEFAULT_FORMAT)
        if text is not None:
            db.add(_new_version(row.id, kind, 1, text, "engine", format=DEFAULT_FORMAT if kind == "note" else None))
            added = True
    if added:
        await refresh(db, row)
        try:
            await db.commit()
        except IntegrityError:
            await db.rollback()  # the unique (session, kind, version) index: a concurrent request wrote v1
            await db.refresh(row)


async def after_save(session_id: str, run_id: str | None) -> list[str]:
    """Called by the save activity once a processed document is stored. The first save writes the
    engine's drafts; a later one (retry, reset, re-notes) adds the engine's new text as a draft beside
    the existing versions: a signed note stays signed, an open draft is kept as `superseded`. Nothing
    is added when the engine says what the current version already says, so a retried save is a no-op.
    Returns the refs (`note:3`) of the versions added."""
    added: list[str] = []
    async with session_scope() as db:
        row = await db.get(SessionRecord, session_id)
        if row is None or row.status != "processed" or notes_of(row) is None:
            return added
        for kind in KINDS:
            vs = await versions(db, session_id, kind)
            current = head(vs)
            if run_id and any(v.origin_run == run_id for v in vs):
                continue  # this run's save has already written its version
            fmt: Format = current.format if current and current.format else DEFAULT_FORMAT  # type: ignore[assignment]
            text = _engine_text(row, kind, fmt)
            if text is None or (current is not None and current.text == text):
                continue
            fmt_col = fmt if kind == "note" else None
            if current is None:
                db.add(_new_version(session_id, kind, 1, text, "engine", format=fmt_col, origin_run=run_id))
                continue
            if current.status == "draft":
                current.status = "superseded"
                db.add(current)
            n = current.version + 1
            db.add(
                _new_version(
                    session_id, kind, n, text, "reprocess", format=fmt_col, based_on=current.version, origin_run=run_id
                )
            )
            db.add(
                AuditEvent(
                    user_id=SYSTEM_USER,
                    action=f"{kind}.reprocess",
                    session_id=session_id,
                    patient_id=row.patient_id,
                    ref=f"{kind}:{n}",
                )
            )
            added.append(f"{kind}:{n}")
        await refresh(db, row)
        await db.commit()
    return added


# --------------------------------------------------------------------------- the row's summary


async def refresh(db: AsyncSession, row: SessionRecord) -> None:
    """Recompute the row's sign-off columns from the versions and reviews, and keep the document's
    client summary (`extracted_notes.patient_summary[_status]`) the current version's. Adds the row
    to the session; the caller commits."""
    await db.flush()
    note = head(await versions(db, row.id, "note"))
    notes = notes_of(row)
    if note is not None:
        row.note_status = "signed" if note.status == "signed" else "unsigned"
    else:
        row.note_status = "unsigned" if notes is not None and row.status == "processed" else None
    reviewed = await latest_reviews(db, row.id)
    row.open_flags = sum(1 for f in flags_of(row) if make_flag_id(f) not in reviewed)
    summary = head(await versions(db, row.id, "summary"))
    if summary is not None and row.document and row.document.get("extracted_notes"):
        document = dict(row.document)
        document["extracted_notes"] = {
            **document["extracted_notes"],
            "patient_summary": summary.text,
            "patient_summary_status": "approved" if summary.status == "approved" else "draft",
        }
        row.document = document  # a new object: the JSON column notices the change
    db.add(row)


# --------------------------------------------------------------------------- clinician actions


def _stale(current: NoteVersion | None, base_version: int | None) -> bool:
    return (current.version if current else None) != base_version


async def save_draft(
    db: AsyncSession, row: SessionRecord, user: User, kind: str, text: str, base_version: int | None, fmt: str | None
) -> NoteVersion:
    """A clinician's edit: a new draft version. 409 when the note is signed (amend it instead) or
    when someone saved another version since `base_version` was read."""
    vs = await versions(db, row.id, kind)
    current = head(vs)
    if kind == "note" and current is not None and current.status == "signed":
        raise conflict(f"version {current.version} of the note is signed and locked; amend it to change it")
    if _stale(current, base_version):
        now = current.version if current else "none"
        raise conflict(f"the {kind} has changed since you opened it (current version: {now}); reload and edit again")
    fmt = (fmt or (current.format if current else None) or DEFAULT_FORMAT) if kind == "note" else None
    if current is not None and current.text == text and current.format == fmt:
        return current  # nothing changed: no new version (an approved summary stays approved)
    if current is not None and current.status == "draft":
        current.status = "superseded"
        db.add(current)
    version = _new_version(
        row.id, kind, (current.version + 1) if current else 1, text, "clinician",
        format=fmt, based_on=current.version if current else None, created_by=user.id,
    )  # fmt: skip
    db.add(version)
    return version


async def finalise(db: AsyncSession, row: SessionRecord, user: User, kind: str, version: int) -> NoteVersion:
    """Sign the note's (approve the summary's) current draft, which must be `version`."""
    current = head(await versions(db, row.id, kind))
    final = FINAL_STATUS[kind]
    if current is None:
        raise conflict(f"the session has no {kind} to {'sign' if kind == 'note' else 'approve'}")
    if current.version != version:
        raise conflict(f"version {version} is not the current {kind} (that is version {current.version})")
    if current.status == final:
        raise conflict(f"version {version} of the {kind} is already {final}")
    current.status = final
    current.signed_by = user.id
    current.signed_at = time.time()
    db.add(current)
    return current


async def amend(
    db: AsyncSession, row: SessionRecord, user: User, reason: str, text: str | None, fmt: str | None
) -> NoteVersion:
    """A new draft of a signed note; the signed version stays as it was."""
    current = head(await versions(db, row.id, "note"))
    if current is None or current.status != "signed":
        raise conflict("only a signed note is amended; edit and sign the current draft instead")
    version = _new_version(
        row.id, "note", current.version + 1, text if text is not None else current.text, "amendment",
        format=fmt or current.format, based_on=current.version, reason=reason, created_by=user.id,
    )  # fmt: skip
    db.add(version)
    return version


async def review_flag(
    db: AsyncSession, row: SessionRecord, user: User, fid: str, decision: str, reason: str
) -> tuple[RiskFlag, FlagReview]:
    flag = next((f for f in flags_of(row) if make_flag_id(f) == fid), None)
    if flag is None:
        raise SignoffError(404, "no such risk flag in this session")
    review = FlagReview(session_id=row.id, flag_id=fid, decision=decision, reason=reason, user_id=user.id)
    db.add(review)
    await db.flush()  # its id, for the audit event's reference
    return flag, review


async def exportable_summary(db: AsyncSession, row: SessionRecord) -> NoteVersion:
    """The client summary, only when its current version is approved (the export gate)."""
    current = head(await versions(db, row.id, "summary"))
    if current is None:
        raise conflict("this session has no client summary")
    if current.status != "approved":
        raise conflict(
            f"the client summary (version {current.version}) is a draft; "
            "a clinician must approve it before it is exported"
        )
    return current


async def delete_for_session(db: AsyncSession, session_id: str) -> None:
    """With the session: its note versions and flag reviews (PHI) go too. The caller commits."""
    await db.exec(delete(NoteVersion).where(col(NoteVersion.session_id) == session_id))  # type: ignore[call-overload]
    await db.exec(delete(FlagReview).where(col(FlagReview.session_id) == session_id))  # type: ignore[call-overload]
