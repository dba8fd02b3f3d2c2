"""Issue 17, sign-off: nothing reaches a client or a record unreviewed.

Over HTTP against an in-process gateway (its own SQLite database; Postgres is exercised by the web
test in tests/web/test_web_e2e.py): editing and signing a note, the lock, amendments that keep the signed
version, flag reviews with reasons, the client-summary export gate, the record of every action (who,
when, what changed) with no PHI in the audit log or the logs, the session list's counts, tenancy, and
a reprocess through the real save activity that adds a draft beside a signed note."""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from tests.support.gateway import Gateway, local_gateway
from therapybridge import db, signoff
from therapybridge import messages as m
from therapybridge.activities.save import save
from therapybridge.blobs import BlobStore
from therapybridge.db import FlagReview, NoteVersion, session_scope
from therapybridge.document import ExtractedNotes, RiskFlag, Segment, SessionDocument, Speaker
from therapybridge.domain.signoff import diff, make_flag_id

QUOTE = "Sometimes I think everyone would be better off without me."
SUMMARY = "Today we talked about your low mood and a plan for the week."
EDIT_MARK = "Clinician edit: plan reviewed with Quentin Signoffpatient."
REASON = "Reviewed with Quentin Signoffpatient: passive ideation, safety plan in place"
PATIENT_NAME = "Quentin Signoffpatient"


def _notes(summary: str = SUMMARY, mood: str = "low") -> ExtractedNotes:
    return ExtractedNotes(
        key_topics=["low mood"],
        patient_mood=mood,
        therapist_notes="Client reports low mood.",
        patient_summary=summary,
        risk_flags=[
            RiskFlag(type="suicidal_ideation", severity="high", quote=QUOTE, start=3.4, end=8.0, speaker="SPEAKER_01"),
            RiskFlag(
                type="substance_use", severity="low", quote="I had a few drinks.", start=9.0, end=10.0,
                speaker="SPEAKER_01",
            ),
        ],
    )  # fmt: skip


def _document(therapist_id: str, patient_id: str, notes: ExtractedNotes | None = None) -> SessionDocument:
    return SessionDocument(
        id=str(uuid.uuid4()),
        therapist_id=therapist_id,
        patient_id=patient_id,
        status="processed",
        progress=100,
        audio_filename="signoff.flac",
        diarization="ok",
        speakers=[Speaker(label="SPEAKER_00", role="therapist"), Speaker(label="SPEAKER_01", role="client")],
        transcript_segments=[
            Segment(start=0.5, end=2.5, speaker="SPEAKER_00", role="therapist", text="How have things been?"),
            Segment(start=3.0, end=8.0, speaker="SPEAKER_01", role="client", text=f"Hard. {QUOTE}"),
            Segment(start=9.0, end=10.0, speaker="SPEAKER_01", role="client", text="I had a few drinks."),
        ],
        extracted_notes=notes or _notes(),
    )


async def _setup(gw: Gateway) -> tuple[str, str, str, str]:
    """(therapist token, therapist id, patient id, session id) with a processed session."""
    token, user_id = await gw.token()
    async with gw.client(token) as c:
        patient = (await c.post("/api/patients", json={"name": PATIENT_NAME})).json()["id"]
    doc = _document(user_id, patient)
    await db.upsert_session(doc)
    return token, user_id, patient, doc.id


async def _listed(gw: Gateway, token: str, sid: str) -> dict:
    async with gw.client(token) as c:
        return next(s for s in (await c.get("/api/sessions")).json()["data"] if s["id"] == sid)


async def test_note_edit_sign_lock_and_amend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with local_gateway(tmp_path, monkeypatch) as gw:
        token, user_id, _patient, sid = await _setup(gw)
        base = f"/api/sessions/{sid}"
        async with gw.client(token) as c:
            state = (await c.get(f"{base}/signoff")).json()
            note = state["note"]["current"]
            assert note["version"] == 1 and note["status"] == "draft" and note["source"] == "engine"
            assert note["format"] == "soap" and "S — Subjective" in note["text"] and state["note"]["final"] is None
            assert state["note_status"] == "unsigned" and state["open_flags"] == 2
            assert (await _listed(gw, token, sid))["note_status"] == "unsigned"

            # Edit: a new version; the engine's draft is kept as superseded.
            edited = note["text"] + "\n" + EDIT_MARK + "\n"
            r = await c.put(f"{base}/note", json={"text": edited, "base_version": 1, "format": "soap"})
            assert r.status_code == 200, r.text
            v2 = r.json()
            assert (v2["version"], v2["status"], v2["source"], v2["based_on"]) == (2, "draft", "clinician", 1)
            assert v2["created_by"] == user_id and v2["created_by_email"].startswith("therapist-")
            # An edit from a stale copy is refused, not merged over the newer one.
            r = await c.put(f"{base}/note", json={"text": "stale", "base_version": 1})
            assert r.status_code == 409 and "changed since" in r.json()["detail"]
            # Sign: only the current version.
            assert (await c.post(f"{base}/note/sign", json={"version": 1})).status_code == 409
            r = await c.post(f"{base}/note/sign", json={"version": 2})
            assert r.status_code == 200, r.text
            signed = r.json()
            assert (
                signed["status"] == "signed"
                and signed["signed_by"] == user_id
                and signed["signed_at"] >= time.time() - 60
            )
            assert (await _listed(gw, token, sid))["note_status"] == "signed"

            # Locked: no edit, no second signature; an amendment needs a reason.
            r = await c.put(f"{base}/note", json={"text": "changed after signing", "base_version": 2})
            assert r.status_code == 409 and "signed" in r.json()["detail"] and "amend" in r.json()["detail"]
            assert (await c.post(f"{base}/note/sign", json={"version": 2})).status_code == 409
            assert (await c.post(f"{base}/note/amend", json={"reason": "  "})).status_code == 422
            assert (await c.post(f"{base}/note/amend", json={})).status_code == 422
            r = await c.post(
                f"{base}/note/amend", json={"reason": "late entry: homework agreed", "text": edited + "Homework.\n"}
            )
            assert r.status_code == 201, r.text
            v3 = r.json()
            assert (v3["version"], v3["status"], v3["source"], v3["based_on"]) == (3, "draft", "amendment", 2)
            assert v3["reason"] == "late entry: homework agreed"
            state = (await c.get(f"{base}/signoff")).json()
            assert state["note"]["current"]["version"] == 3 and state["note_status"] == "unsigned"
            assert state["note"]["final"]["version"] == 2 and state["note"]["final"]["text"] == edited  # kept as signed
            assert (
                await c.post(f"{base}/note/amend", json={"reason": "again"})
            ).status_code == 409  # amend a draft: no
            assert (await c.post(f"{base}/note/sign", json={"version": 3})).status_code == 200

            versions = (await c.get(f"{base}/note/versions")).json()
            assert [(v["version"], v["status"]) for v in versions] == [(3, "signed"), (2, "signed"), (1, "superseded")]
            assert "+Homework." in versions[0]["diff"] and f"+{EDIT_MARK}" in versions[1]["diff"]
            assert versions[2]["diff"] is None

            # The record: every action, who and when, with what changed.
            history = (await c.get(f"{base}/history")).json()
            assert [e["action"] for e in history] == ["note.sign", "note.amend", "note.sign", "note.edit"]
            assert all(e["user_id"] == user_id and e["user_email"] for e in history)
            assert history[1]["ref"] == "note:3" and "late entry" in history[1]["detail"]
            assert f"+{EDIT_MARK}" in history[3]["diff"]
            reads = (await c.get(f"{base}/history", params={"include_reads": "true"})).json()
            assert "session.signoff" in {e["action"] for e in reads}

        # In the database: three versions, the signed ones untouched.
        async with session_scope() as s:
            rows = await signoff.versions(s, sid, "note")
        assert [(v.version, v.status, v.text == edited) for v in rows][:2] == [
            (1, "superseded", False),
            (2, "signed", True),
        ]


async def test_flags_are_acknowledged_or_dismissed_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with local_gateway(tmp_path, monkeypatch) as gw:
        token, user_id, _patient, sid = await _setup(gw)
        base = f"/api/sessions/{sid}"
        async with gw.client(token) as c:
            flags = (await c.get(f"{base}/signoff")).json()["flags"]
            assert [(f["type"], f["status"]) for f in flags] == [
                ("suicidal_ideation", "open"),
                ("substance_use", "open"),
            ]
            si, su = flags[0]["id"], flags[1]["id"]
            assert (await _listed(gw, token, sid))["open_flags"] == 2
            r = await c.post(f"{base}/flags/{si}/review", json={"decision": "dismissed"})
            assert r.status_code == 422  # a reason is required
            r = await c.post(f"{base}/flags/{si}/review", json={"decision": "dismissed", "reason": " "})
            assert r.status_code == 422
            r = await c.post(f"{base}/flags/{si}/review", json={"decision": "ignored", "reason": "x"})
            assert r.status_code == 422
            r = await c.post(f"{base}/flags/0000000000000000/review", json={"decision": "dismissed", "reason": "x"})
            assert r.status_code == 404
            r = await c.post(f"{base}/flags/{si}/review", json={"decision": "acknowledged", "reason": REASON})
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "acknowledged" and r.json()["reviewed_by"] == user_id
            assert (await _listed(gw, token, sid))["open_flags"] == 1
            r = await c.post(
                f"{base}/flags/{su}/review", json={"decision": "dismissed", "reason": "social drinking, no concern"}
            )
            assert r.status_code == 200 and r.json()["status"] == "dismissed"
            state = (await c.get(f"{base}/signoff")).json()
            assert state["open_flags"] == 0 and (await _listed(gw, token, sid))["open_flags"] == 0
            assert state["flags"][0]["reason"] == REASON
            history = (await c.get(f"{base}/history")).json()
            assert [e["action"] for e in history] == ["flag.dismiss", "flag.acknowledge"]
            assert history[1]["detail"] == f"acknowledged: {REASON}" and history[1]["ref"].startswith(f"flag:{si}:")


async def test_client_summary_export_needs_approval(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with local_gateway(tmp_path, monkeypatch) as gw:
        token, _user_id, _patient, sid = await _setup(gw)
        base = f"/api/sessions/{sid}"
        async with gw.client(token) as c:
            state = (await c.get(f"{base}/signoff")).json()
            assert state["summary"]["current"]["text"] == SUMMARY and not state["summary_exportable"]
            r = await c.get(f"{base}/client-summary.txt")
            assert r.status_code == 409 and "approve" in r.json()["detail"]  # the engine's draft never goes out
            # An edit alone is not approval.
            edited = SUMMARY + " You chose to walk every morning."
            r = await c.put(f"{base}/summary", json={"text": edited, "base_version": 1})
            assert r.status_code == 200 and r.json()["version"] == 2
            assert (await c.get(f"{base}/client-summary.txt")).status_code == 409
            r = await c.post(f"{base}/summary/approve", json={"version": 2})
            assert r.status_code == 200 and r.json()["status"] == "approved"
            r = await c.get(f"{base}/client-summary.txt")
            assert r.status_code == 200 and r.text == edited + "\n"
            assert r.headers["content-disposition"] == f'attachment; filename="session-{sid}-client-summary.txt"'
            # Saving the same text again changes nothing (no new version, still approved).
            r = await c.put(f"{base}/summary", json={"text": edited, "base_version": 2})
            assert r.status_code == 200 and (r.json()["version"], r.json()["status"]) == (2, "approved")
            assert (await c.get(f"{base}/client-summary.txt")).status_code == 200
            # The document's contract field follows.
            notes = (await c.get(base)).json()["extracted_notes"]
            assert (notes["patient_summary"], notes["patient_summary_status"]) == (edited, "approved")
            # Editing an approved summary makes a new draft: export waits for its approval.
            r = await c.put(f"{base}/summary", json={"text": "Something else.", "base_version": 2})
            assert r.status_code == 200 and r.json()["version"] == 3
            assert (await c.get(f"{base}/client-summary.txt")).status_code == 409
            assert (await c.get(base)).json()["extracted_notes"]["patient_summary_status"] == "draft"
            actions = [e["action"] for e in (await c.get(f"{base}/history", params={"include_reads": "true"})).json()]
            assert actions.count("summary.export") == 2 and actions.count("summary.edit") == 2  # the no-op: none


async def test_only_the_sessions_clinician_signs_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with local_gateway(tmp_path, monkeypatch) as gw:
        token, _user_id, _patient, sid = await _setup(gw)
        other, _ = await gw.token()
        admin, _ = await gw.token("admin")
        base = f"/api/sessions/{sid}"
        async with gw.client(token) as c:
            fid = (await c.get(f"{base}/signoff")).json()["flags"][0]["id"]
        calls = [
            ("GET", f"{base}/signoff", None),
            ("PUT", f"{base}/note", {"text": "x", "base_version": 1}),
            ("POST", f"{base}/note/sign", {"version": 1}),
            ("POST", f"{base}/note/amend", {"reason": "x"}),
            ("GET", f"{base}/note/versions", None),
            ("PUT", f"{base}/summary", {"text": "x", "base_version": 1}),
            ("POST", f"{base}/summary/approve", {"version": 1}),
            ("GET", f"{base}/summary/versions", None),
            ("GET", f"{base}/client-summary.txt", None),
            ("POST", f"{base}/flags/{fid}/review", {"decision": "dismissed", "reason": "x"}),
            ("GET", f"{base}/history", None),
        ]
        async with gw.client(other) as c:
            for method, path, body in calls:
                r = await c.request(method, path, json=body)
                assert r.status_code == 404 and r.json() == {"detail": "session not found"}, (method, path)
        async with gw.client() as c:
            for method, path, body in calls:
                assert (await c.request(method, path, json=body)).status_code == 401, (method, path)
        async with gw.client(admin) as c:  # administrators read, but do not sign someone else's notes
            assert (await c.get(f"{base}/signoff")).status_code == 200
            assert (await c.get(f"{base}/history")).status_code == 200
            assert (await c.post(f"{base}/note/sign", json={"version": 1})).status_code == 403
        # Not processed: 409.
        async with gw.client(token) as c:
            await db.upsert_session(SessionDocument(id=sid + "-q", therapist_id=_user_id, status="queued"))
            assert (await c.get(f"/api/sessions/{sid}-q/signoff")).status_code == 409


async def test_audit_and_logs_hold_no_phi_and_delete_removes_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what production logs (the database drivers' DEBUG echoes SQL parameters)
    caplog.set_level(logging.DEBUG, logger="therapybridge")
    async with local_gateway(tmp_path, monkeypatch) as gw:
        token, user_id, patient, sid = await _setup(gw)
        admin, _ = await gw.token("admin")
        base = f"/api/sessions/{sid}"
        async with gw.client(token) as c:
            state = (await c.get(f"{base}/signoff")).json()
            await c.put(f"{base}/note", json={"text": EDIT_MARK, "base_version": 1})
            await c.post(f"{base}/note/sign", json={"version": 2})
            await c.post(f"{base}/note/amend", json={"reason": REASON})
            await c.post(
                f"{base}/flags/{state['flags'][0]['id']}/review", json={"decision": "dismissed", "reason": REASON}
            )
            await c.put(f"{base}/summary", json={"text": EDIT_MARK, "base_version": 1})
        async with gw.client(admin) as c:
            r = await c.get("/api/audit", params={"session_id": sid, "limit": 1000})
            events = r.json()
            assert {"note.edit", "note.sign", "note.amend", "flag.dismiss", "summary.edit"} <= {
                e["action"] for e in events
            }
            assert {e["ref"] for e in events if e["action"] == "note.amend"} == {"note:3"}
            assert all(e["patient_id"] == patient for e in events)
            for secret in (EDIT_MARK, REASON, PATIENT_NAME, QUOTE, SUMMARY):
                assert secret not in r.text
        logged = "\n".join(rec.getMessage() + " " + str(rec.__dict__) for rec in caplog.records)
        for secret in (EDIT_MARK, REASON, QUOTE, SUMMARY, "Signoffpatient"):
            assert secret not in logged
        async with gw.client(token) as c:
            assert (await c.delete(base)).status_code == 204
        async with session_scope() as s:
            assert await signoff.versions(s, sid, "note") == [] and await signoff.versions(s, sid, "summary") == []
            from sqlmodel import col, select

            assert (await s.exec(select(FlagReview).where(col(FlagReview.session_id) == sid))).all() == []
        del user_id


async def test_reprocessing_adds_a_draft_beside_a_signed_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The save activity (what a retry, a reset or re-notes ends in) never overwrites a signed note."""
    async with local_gateway(tmp_path, monkeypatch) as gw:
        token, user_id, patient, _ = await _setup(gw)
        store = BlobStore(gw.settings.blob_dir)
        sid = str(uuid.uuid4())
        doc = _document(user_id, patient)
        merged = {
            "language": "en",
            "segments": [s.model_dump() for s in doc.transcript_segments],
            "speakers": [s.model_dump() for s in doc.speakers],
            "turns": [],
        }
        store.write_json(f"{sid}/merged.json", merged)
        store.write_json(f"{sid}/notes.json", _notes())
        inp = m.SessionInput(
            session_id=sid, upload_ref="", audio_filename="x.flac", therapist_id=user_id, patient_id=patient
        )
        req = m.SaveRequest(
            session=inp, status="processed", merged_ref=f"{sid}/merged.json", notes_ref=f"{sid}/notes.json"
        )

        async def run_save(run_id: str) -> None:
            env = ActivityEnvironment()
            env.info = dataclasses.replace(env.info, workflow_run_id=run_id)
            await env.run(save, req)

        await run_save("run-1")
        await run_save("run-1")  # a retried save of the same run: nothing more
        async with session_scope() as s:
            assert [(v.kind, v.version, v.source) for v in await _all(s, sid)] == [
                ("note", 1, "engine"), ("summary", 1, "engine"),
            ]  # fmt: skip
        base = f"/api/sessions/{sid}"
        async with gw.client(token) as c:
            state = (await c.get(f"{base}/signoff")).json()
            assert state["note"]["current"]["version"] == 1
            signed_text = state["note"]["current"]["text"] + EDIT_MARK + "\n"
            assert (await c.put(f"{base}/note", json={"text": signed_text, "base_version": 1})).status_code == 200
            assert (await c.post(f"{base}/note/sign", json={"version": 2})).status_code == 200
            fid = state["flags"][0]["id"]
            await c.post(f"{base}/flags/{fid}/review", json={"decision": "acknowledged", "reason": "seen"})

        # Reprocessed: the engine now says something else.
        store.write_json(f"{sid}/notes.json", _notes(summary="A different summary.", mood="anxious"))
        await run_save("run-2")
        await run_save("run-2")
        async with session_scope() as s:
            rows = await _all(s, sid)
        notes_rows = [(v.version, v.status, v.source) for v in rows if v.kind == "note"]
        assert notes_rows == [(1, "superseded", "engine"), (2, "signed", "clinician"), (3, "draft", "reprocess")]
        assert next(v for v in rows if v.kind == "note" and v.version == 2).text == signed_text  # untouched
        assert "anxious" in next(v for v in rows if v.kind == "note" and v.version == 3).text
        async with gw.client(token) as c:
            state = (await c.get(f"{base}/signoff")).json()
            assert state["note"]["final"]["version"] == 2 and state["note"]["current"]["source"] == "reprocess"
            assert state["note_status"] == "unsigned"  # a new draft to review
            assert [f["status"] for f in state["flags"]] == ["acknowledged", "open"]  # same findings keep reviews
            assert state["summary"]["current"]["text"] == "A different summary."
            history = (await c.get(f"{base}/history")).json()
            assert {("system", "note.reprocess", "note:3")} <= {(e["user_id"], e["action"], e["ref"]) for e in history}
            assert (await c.get(f"{base}/transcript.json")).status_code == 200


async def _all(s: object, sid: str) -> list[NoteVersion]:
    return [*await signoff.versions(s, sid, "note"), *await signoff.versions(s, sid, "summary")]  # type: ignore[arg-type]


def test_flag_ids_are_stable_and_diffs_show_changes() -> None:
    flag = RiskFlag(type="self_harm", severity="low", quote="q", start=1.0, end=2.0, speaker="SPEAKER_01")
    assert make_flag_id(flag) == make_flag_id(flag.model_copy()) and len(make_flag_id(flag)) == 16
    assert make_flag_id(flag) != make_flag_id(flag.model_copy(update={"start": 5.0}))
    d = diff("a\nb\n", "a\nc\n", "v1", "v2")
    assert "-b\n" in d and "+c\n" in d and d.startswith("--- v1")


async def test_odd_input_is_a_4xx_never_a_5xx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with local_gateway(tmp_path, monkeypatch) as gw:
        token, _user_id, _patient, sid = await _setup(gw)
        base = f"/api/sessions/{sid}"
        huge = 2**70
        cases = [
            ("PUT", f"{base}/note", '{"text": "a\\u0000b", "base_version": 1}'),
            ("PUT", f"{base}/note", '{"text": "lone \\ud800 surrogate", "base_version": 1}'),
            ("PUT", f"{base}/note", f'{{"text": "x", "base_version": {huge}}}'),
            ("PUT", f"{base}/note", '{"text": "x", "base_version": 1, "format": "essay"}'),
            ("PUT", f"{base}/note", '{"text": ""}'),
            ("POST", f"{base}/note/sign", f'{{"version": {huge}}}'),
            ("POST", f"{base}/note/sign", '{"version": "two"}'),
            ("POST", f"{base}/note/amend", '{"reason": "\\u0007"}'),
            ("PUT", f"{base}/summary", '{"text": "' + "x" * 100_001 + '", "base_version": 1}'),
            ("POST", f"{base}/flags/{'f' * 5000}/review", '{"decision": "dismissed", "reason": "r"}'),
            ("POST", f"{base}/flags/abc/review", "not json"),
            ("GET", f"{base}/history?limit=0", None),
            ("GET", f"{base}/bogus/versions", None),
        ]
        async with gw.client(token) as c:
            for method, path, body in cases:
                r = await c.request(method, path, content=body, headers={"Content-Type": "application/json"})
                assert 400 <= r.status_code < 500, (method, path[:80], body and body[:60], r.status_code, r.text[:200])


def test_migration_0009_backfills_and_goes_down(tmp_path: Path) -> None:
    """Sessions processed before sign-off existed come up unsigned, with all their flags open."""
    import json

    import sqlalchemy as sa
    from alembic import command
    from alembic.script import ScriptDirectory

    from therapybridge.db import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1  # one line of migrations; 0009 is on it
    assert script.get_revision("0009") in script.iterate_revisions(script.get_current_head(), "base")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    document = _document("t", "p").model_dump(mode="json")
    with engine.begin() as conn:
        cfg = alembic_config(conn)
        command.upgrade(cfg, "0008")
        for sid, status, doc in (("old", "processed", document), ("failed", "failed", None)):
            conn.execute(
                sa.text(
                    "INSERT INTO sessions (id, status, progress, audio_filename, document, created_at, updated_at) "
                    "VALUES (:id, :status, 100, 'a.flac', :doc, '2026-11-01', '2026-11-01')"
                ),
                {"id": sid, "status": status, "doc": json.dumps(doc) if doc else None},
            )
        command.upgrade(cfg, "head")
        rows = dict(
            (r[0], (r[1], r[2])) for r in conn.execute(sa.text("SELECT id, note_status, open_flags FROM sessions"))
        )
        assert rows == {"old": ("unsigned", 2), "failed": (None, None)}
        command.downgrade(cfg, "0008")
        command.upgrade(cfg, "head")
        assert {"note_versions", "flag_reviews"} <= set(sa.inspect(conn).get_table_names())


async def test_the_list_shows_what_awaits_sign_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with local_gateway(tmp_path, monkeypatch) as gw:
        token, user_id, patient, done = await _setup(gw)
        waiting = _document(user_id, patient)
        await db.upsert_session(waiting)
        await signoff.after_save(waiting.id, "run-1")  # what the save activity does: drafts, list columns
        async with gw.client(token) as c:
            base = f"/api/sessions/{done}"
            state = (await c.get(f"{base}/signoff")).json()
            assert (await c.post(f"{base}/note/sign", json={"version": 1})).status_code == 200
            ids = lambda r: {s["id"] for s in r.json()["data"]}  # noqa: E731
            assert ids(await c.get("/api/sessions", params={"needs_review": "true"})) == {done, waiting.id}  # flags
            for f in state["flags"]:
                r = await c.post(f"{base}/flags/{f['id']}/review", json={"decision": "acknowledged", "reason": "ok"})
                assert r.status_code == 200
            assert ids(await c.get("/api/sessions", params={"needs_review": "true"})) == {waiting.id}
            assert ids(await c.get("/api/sessions")) == {done, waiting.id}
            listed = {
                s["id"]: (s["note_status"], s["open_flags"]) for s in (await c.get("/api/sessions")).json()["data"]
            }
            assert listed == {done: ("signed", 0), waiting.id: ("unsigned", 2)}
