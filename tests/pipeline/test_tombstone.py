"""Delete means delete: a save still in flight for a deleted session writes nothing back, and the
purge removes files written after the deletion."""

from __future__ import annotations

import time
import uuid

from tests.support.stack import Stack
from therapybridge import db
from therapybridge import messages as m
from therapybridge.activities.purge import purge_expired_artifacts
from therapybridge.activities.save import save


async def _tombstone(session_id: str) -> None:
    async with db.session_scope() as s:
        s.add(db.DeletedSession(id=session_id, deleted_at=time.time()))
        await s.commit()


async def test_late_save_of_a_deleted_session_writes_nothing(stack: Stack) -> None:
    sid = str(uuid.uuid4())
    stack.blobs.write_json(f"{sid}/notes.json", {"late": True})
    await _tombstone(sid)
    await save(m.SaveRequest(session=m.SessionInput(sid, f"{sid}/upload.wav", "x.wav"), status="processed"))
    assert await stack.document(sid) is None
    assert stack.blobs.session_keys(sid) == []


async def test_purge_removes_files_written_after_deletion(stack: Stack) -> None:
    deleted, alive = str(uuid.uuid4()), str(uuid.uuid4())
    for sid in (deleted, alive):
        stack.blobs.write_json(f"{sid}/windows/0000.json", {"words": 1})
    await _tombstone(deleted)
    assert await purge_expired_artifacts(24.0) >= 1
    assert stack.blobs.session_keys(deleted) == []
    assert stack.blobs.session_keys(alive) == [f"{alive}/windows/0000.json"]  # no row, no tombstone: not ours
