"""Issue 13, done means: an audit log of access to patient data (who read, exported or deleted which
session, when), queryable by an administrator, holding no PHI itself."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from tests.support.gateway import local_gateway
from therapybridge.db import SessionRecord, alembic_config, session_scope
from therapybridge.document import Segment, SessionDocument, Speaker

PATIENT_NAME = "Ophelia Auditpatient"
SECRET_TEXT = "my secret transcript line"


async def _session(user_id: str, patient_id: str) -> str:
    doc = SessionDocument(
        id="sess-audit", therapist_id=user_id, patient_id=patient_id, status="processed",
        transcript_segments=[Segment(start=0, end=2, speaker="SPEAKER_00", role="client", text=SECRET_TEXT)],
        speakers=[Speaker(label="SPEAKER_00", role="client")], transcript_text=SECRET_TEXT,
    )  # fmt: skip
    async with session_scope() as db:
        db.add(
            SessionRecord(
                id=doc.id, therapist_id=user_id, patient_id=patient_id, status="processed",
                audio_filename=f"{PATIENT_NAME}.flac", document=doc.model_dump(mode="json"),
            )
        )  # fmt: skip
        await db.commit()
    return doc.id


async def test_reads_exports_and_deletes_are_audited_for_admins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with local_gateway(tmp_path, monkeypatch) as gw:
        therapist, therapist_id = await gw.token()
        admin, admin_id = await gw.token("admin")
        t0 = time.time()
        async with gw.client(therapist) as c:
            patient = (await c.post("/api/patients", json={"name": PATIENT_NAME})).json()["id"]
            sid = await _session(therapist_id, patient)
            assert (await c.get(f"/api/sessions/{sid}")).status_code == 200
            assert (await c.get(f"/api/sessions/{sid}/transcript.txt")).status_code == 200
            assert (await c.get(f"/api/patients/{patient}")).status_code == 200
            assert (await c.get("/api/audit")).status_code == 403  # administrators only
        async with gw.client(admin) as c:
            assert (await c.get(f"/api/sessions/{sid}/transcript.json")).status_code == 200
            assert (await c.delete(f"/api/sessions/{sid}")).status_code == 204
            r = await c.get("/api/audit", params={"session_id": sid})
            assert r.status_code == 200, r.text
            events = r.json()
            assert [(e["user_id"], e["action"]) for e in events] == [
                (admin_id, "session.delete"),
                (admin_id, "session.export"),
                (therapist_id, "session.export"),
                (therapist_id, "session.read"),
            ]
            assert all(e["patient_id"] == patient and e["at"] >= t0 for e in events)
            mine = (await c.get("/api/audit", params={"user_id": therapist_id, "action": "patient.read"})).json()
            assert [e["patient_id"] for e in mine] == [patient]
            everything = (await c.get("/api/audit", params={"limit": 1000})).text
            assert PATIENT_NAME not in everything and SECRET_TEXT not in everything  # identifiers only


def test_migrations_have_one_head_after_the_audit_table() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1  # two branches numbering the same revision would fork the chain
    assert "0007" in {r.revision for r in script.walk_revisions()}
