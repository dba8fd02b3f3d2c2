"""Row operations on sessions for the HTTP layer (the full-stack template's `crud.py`): idempotency
lookup, quotas, listing, claiming a retry, recording an outcome, deleting and sweeping, a session's
history, and the monitor's unfinished rows. Routes keep only HTTP; this module keeps only SQL.

Final status: the workflow's save activity (db.upsert_session) writes a session's outcome together
with its document. `record_outcome` here is the gateway's only writer of a final status, for when
no workflow is alive to save (cancel of a run that is gone, a run terminated in the Temporal UI);
it never overwrites a final status, so it cannot undo or race the save.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.orm import defer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from therapybridge import messages as m
from therapybridge import signoff, transcript_versions
from therapybridge.db import AuditEvent, DeletedSession, FlagReview, SessionRecord, User, session_scope
from therapybridge.document import FINAL_STATUSES

RETRYABLE = ("failed", "cancelled")
# Reads stay in the audit log but are left out of a session's history unless asked for.
READ_ACTIONS = frozenset(
    {"session.read", "session.list", "session.notes", "session.audio", "session.signoff", "session.history",
     "note.versions", "summary.versions", "transcript.versions", "transcript.read"}
)  # fmt: skip


class BadCursor(ValueError):
    """A list cursor that this module did not make."""


async def by_idempotency_key(db: AsyncSession, therapist_id: str, key: str) -> SessionRecord | None:
    query = select(SessionRecord).where(
        col(SessionRecord.therapist_id) == therapist_id, col(SessionRecord.idempotency_key) == key
    )
    return (await db.exec(query)).first()


async def active_sessions(db: AsyncSession, user_id: str) -> int:
    query = select(func.count()).where(
        col(SessionRecord.therapist_id) == user_id, col(SessionRecord.status).not_in(FINAL_STATUSES)
    )
    return int((await db.exec(query)).one())


async def stored_hours(db: AsyncSession, user_id: str) -> float:
    query = select(func.coalesce(func.sum(SessionRecord.duration_seconds), 0.0)).where(
        col(SessionRecord.therapist_id) == user_id
    )
    return float((await db.exec(query)).one()) / 3600


async def delete_row(db: AsyncSession, session_id: str) -> None:
    """Remove a row an upload created before it was rejected."""
    await db.rollback()
    found = await db.get(SessionRecord, session_id)
    if found is not None:
        await db.delete(found)
        await db.commit()


# --------------------------------------------------------------------------- listing


def encode_cursor(row: SessionRecord) -> str:
    raw = json.dumps([row.created_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, sid = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(created), str(sid)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadCursor("invalid cursor") from None


async def list_page(
    db: AsyncSession,
    user: User,
    *,
    patient_id: str | None,
    status: str | None,
    needs_review: bool | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[SessionRecord], str | None]:
    """A page of sessions newest first (admins: everyone's) and the cursor of the next page."""
    query = select(SessionRecord).options(defer(SessionRecord.document))  # type: ignore[arg-type]
    if user.role != "admin":
        query = query.where(col(SessionRecord.therapist_id) == user.id)
    if patient_id:
        query = query.where(col(SessionRecord.patient_id) == patient_id)
    if status:
        query = query.where(col(SessionRecord.status) == status)
    if needs_review:
        query = query.where(or_(col(SessionRecord.note_status) == "unsigned", col(SessionRecord.open_flags) > 0))
    if cursor:
        created, sid = decode_cursor(cursor)
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
    return rows, encode_cursor(rows[-1]) if more and rows else None


# --------------------------------------------------------------------------- control


async def load_row(session_id: str) -> SessionRecord | None:
    async with session_scope() as db:
        return await db.get(SessionRecord, session_id)


async def record_outcome(session_id: str, status: str, error: str | None) -> None:
    """Write a final status to a row that is not final yet (never overwrites the workflow's save)."""
    async with session_scope() as db:
        await db.exec(
            update(SessionRecord)
            .where(col(SessionRecord.id) == session_id, col(SessionRecord.status).not_in(list(FINAL_STATUSES)))
            .values(status=status, progress=m.DONE, error=error, updated_at=datetime.now(UTC))
        )
        await db.commit()


async def claim_retry(db: AsyncSession, session_id: str) -> bool:
    """Move a failed or cancelled session back to queued; of two concurrent claims one wins."""
    claimed = await db.exec(
        update(SessionRecord)
        .where(col(SessionRecord.id) == session_id, col(SessionRecord.status).in_(RETRYABLE))
        .values(status="queued", progress=0, error=None, updated_at=datetime.now(UTC))
    )
    await db.commit()
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


async def restore(db: AsyncSession, session_id: str, previous: dict[str, Any]) -> None:
    """Undo a claimed retry whose workflow could not start."""
    await db.exec(update(SessionRecord).where(col(SessionRecord.id) == session_id).values(**previous))
    await db.commit()


async def clear_outcome(db: AsyncSession, session_id: str) -> None:
    """The old outcome's document goes once a retry's run is on its way (a signed note survives:
    the new run's save adds its notes as a draft beside it)."""
    await db.exec(
        update(SessionRecord)
        .where(col(SessionRecord.id) == session_id)
        .values(document=None, processed_at=None, duration_seconds=None)
    )
    await db.commit()


async def delete_session(db: AsyncSession, row: SessionRecord, user: User) -> None:
    """The row, its note versions and flag reviews, a tombstone (a late save must not bring it back)
    and the audit event, in one commit."""
    await db.delete(row)
    await signoff.delete_for_session(db, row.id)  # note versions and flag reviews are PHI too
    await transcript_versions.delete_for_session(db, row.id)  # and the transcript's versions
    db.add(DeletedSession(id=row.id, deleted_at=time.time()))
    db.add(AuditEvent(user_id=user.id, action="session.delete", session_id=row.id, patient_id=row.patient_id))
    await db.commit()


async def sweep_rows(session_id: str) -> None:
    """What a save that was in flight during a delete may have written back."""
    async with session_scope() as db:
        found = await db.get(SessionRecord, session_id)
        if found is not None:
            await db.delete(found)
        await signoff.delete_for_session(db, session_id)  # a late save's drafts too
        await transcript_versions.delete_for_session(db, session_id)
        await db.commit()


# --------------------------------------------------------------------------- history


async def session_events(db: AsyncSession, session_id: str, *, include_reads: bool, limit: int) -> list[AuditEvent]:
    """A session's audit events, newest first; reads (READ_ACTIONS) only when asked for."""
    query = select(AuditEvent).where(col(AuditEvent.session_id) == session_id)
    if not include_reads:
        query = query.where(col(AuditEvent.action).not_in(READ_ACTIONS))
    query = query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)
    return list((await db.exec(query)).all())


async def flag_reviews(db: AsyncSession, session_id: str) -> list[FlagReview]:
    """Every review of the session's risk flags, the replaced ones too."""
    return list((await db.exec(select(FlagReview).where(col(FlagReview.session_id) == session_id))).all())


# --------------------------------------------------------------------------- the session monitor


async def unfinished_rows(limit: int) -> list[tuple[str, datetime | None]]:
    """Id and last change of each session that is not final yet, the longest unchanged first."""
    async with session_scope() as db:
        query = (
            select(SessionRecord.id, SessionRecord.updated_at)
            .where(col(SessionRecord.status).not_in(list(FINAL_STATUSES)))
            .order_by(col(SessionRecord.updated_at))
            .limit(limit)
        )
        return [(sid, updated) for sid, updated in (await db.exec(query)).all()]
