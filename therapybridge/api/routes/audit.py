"""The audit log of access to patient data, for administrators: who read, exported, deleted, edited,
signed or reviewed which session or patient, and when. It holds identifiers only (no names, no
transcript or note text): what a sign-off action changed is in note_versions / flag_reviews, which
`ref` points to. Clinicians see their own sessions' records at /api/sessions/{id}/history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from therapybridge.api.deps import AdminUser, SessionDep
from therapybridge.api.models import Message
from therapybridge.db import AuditEvent, User

router = APIRouter(prefix="/api/audit", tags=["audit"])


async def record(
    db: AsyncSession,
    user: User,
    action: str,
    *,
    session_id: str | None = None,
    patient_id: str | None = None,
    ref: str | None = None,
) -> None:
    """Write one access event before the data goes out: an access that cannot be recorded fails.
    Commits, together with any change the caller has added to `db` (an action and its record are one)."""
    db.add(AuditEvent(user_id=user.id, action=action, session_id=session_id, patient_id=patient_id, ref=ref))
    await db.commit()


class AuditEventPublic(BaseModel):
    at: float
    user_id: str
    action: str
    session_id: str | None
    patient_id: str | None
    ref: str | None = None  # what a sign-off action changed: note:3, summary:2, flag:<id>:<review>


@router.get("", response_model=list[AuditEventPublic], responses={401: {"model": Message}, 403: {"model": Message}})
async def audit_log(
    _admin: AdminUser,
    db: SessionDep,
    user_id: Annotated[str | None, Query(max_length=100)] = None,
    session_id: Annotated[str | None, Query(max_length=100)] = None,
    patient_id: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[float | None, Query(description="Epoch seconds.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEvent]:
    """Access events, newest first, filtered by user, session, patient, action or time."""
    query = select(AuditEvent)
    for column, value in (
        (AuditEvent.user_id, user_id),
        (AuditEvent.session_id, session_id),
        (AuditEvent.patient_id, patient_id),
        (AuditEvent.action, action),
    ):
        if value is not None:
            query = query.where(col(column) == value)
    if since is not None:
        query = query.where(col(AuditEvent.at) >= since)
    query = query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)
    return list((await db.exec(query)).all())
