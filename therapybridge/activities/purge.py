from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select
from temporalio import activity

from therapybridge import db
from therapybridge import messages as m
from therapybridge.activities.common import blobs, log_stage


@activity.defn(name=m.PURGE)
async def purge_expired_artifacts(ttl_hours: float) -> int:
    """Delete the blobs (upload, audio, partial results) of failed or cancelled sessions that have
    not changed for `ttl_hours` (the row and its error message stay; a retry then needs a new
    upload), and any blob of a deleted session that a late activity wrote."""
    cutoff = datetime.now(UTC) - timedelta(hours=ttl_hours)
    store = blobs()
    purged = 0
    async with db.session_scope() as s:
        rows = await s.exec(
            select(db.SessionRecord.id).where(
                col(db.SessionRecord.status).in_(["failed", "cancelled"]), col(db.SessionRecord.updated_at) < cutoff
            )
        )
        expired = list(rows.all())
        # Files an activity wrote after its session was deleted.
        expired += list((await s.exec(select(db.DeletedSession.id))).all())
        for session_id in expired:
            if store.session_keys(session_id):
                store.delete_session(session_id)
                purged += 1
    log_stage("purge", "-", 0.0, purged=purged)
    return purged
