"""Sign-in sessions (token families): opened at login, checked on every request, rotated on refresh,
revoked by logout, by refresh-token reuse, by a password change and by disabling the user."""

from __future__ import annotations

import time
import uuid
from typing import Literal

from sqlalchemy import update
from sqlmodel.ext.asyncio.session import AsyncSession

from therapybridge.db import AuthSession, session_scope

RevokeReason = Literal["logout", "reuse", "password", "disabled"]
# Two tabs refreshing with the same token at once is a race, not theft: within this many seconds of a
# rotation the previous token is refused (401) without revoking the family.
REUSE_GRACE_S = 10.0


async def open_session(db: AsyncSession, user_id: str, lifetime_s: float) -> AuthSession:
    row = AuthSession(user_id=user_id, refresh_jti=uuid.uuid4().hex, expires_at=time.time() + lifetime_s)
    db.add(row)
    await db.commit()
    return row


async def is_live(db: AsyncSession, sid: str, user_id: str) -> bool:
    row = await db.get(AuthSession, sid)
    return row is not None and row.user_id == user_id and row.revoked_at is None and row.expires_at > time.time()


class RefreshRefused(Exception):
    pass


async def rotate(db: AsyncSession, sid: str, user_id: str, jti: str) -> str:
    """The new refresh jti for a valid refresh token. A reused (already rotated) token revokes the
    family: whoever holds the newer token, the thief or the user, must sign in again."""
    now = time.time()
    new_jti = uuid.uuid4().hex
    t = AuthSession.__table__  # type: ignore[attr-defined]
    # Compare-and-set: of two refreshes racing with one token, exactly one wins.
    done = await db.exec(  # type: ignore[call-overload]
        update(t)
        .where(t.c.id == sid, t.c.user_id == user_id, t.c.refresh_jti == jti, t.c.revoked_at.is_(None))
        .where(t.c.expires_at > now)
        .values(refresh_jti=new_jti, previous_jti=jti, rotated_at=now)
    )
    await db.commit()
    if done.rowcount == 1:
        return new_jti
    row = await db.get(AuthSession, sid)
    if row is None or row.user_id != user_id or row.revoked_at is not None:
        raise RefreshRefused()
    if not (row.previous_jti == jti and now - row.rotated_at < REUSE_GRACE_S):
        await revoke(db, sid=sid, reason="reuse")
    raise RefreshRefused()


async def revoke(
    db: AsyncSession | None = None, *, sid: str | None = None, user_id: str | None = None, reason: RevokeReason
) -> int:
    """Revoke one sign-in session, or every one of a user; the number revoked."""
    if db is None:
        async with session_scope() as own:
            return await revoke(own, sid=sid, user_id=user_id, reason=reason)
    t = AuthSession.__table__  # type: ignore[attr-defined]
    query = update(t).where(t.c.revoked_at.is_(None)).values(revoked_at=time.time(), revoked_reason=reason)
    if sid is not None:
        query = query.where(t.c.id == sid)
    if user_id is not None:
        query = query.where(t.c.user_id == user_id)
    result = await db.exec(query)  # type: ignore[call-overload]
    await db.commit()
    return int(result.rowcount or 0)

