"""Issue 16, items 1, 5 and 8: a clinician corrects the transcript (words, who said a line), swaps
roles with undo, and files the clinical note as PDF or DOCX.

Over HTTP against an in-process gateway (its own SQLite database). The re-notes run here through the
real activities of RenotesWorkflow in an ActivityEnvironment, in the order the workflow runs them;
the workflow itself runs on the real stack in tests/web/test_web_e2e.py (edit a line in the page, see
the rebuilt notes)."""

from __future__ import annotations

import dataclasses
import io
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pypdf
import pytest
from docx import Document
from temporalio.testing import ActivityEnvironment

from tests.support.gateway import Gateway, local_gateway
from therapybridge import db
from therapybridge import messages as m
from therapybridge.activities.notes import notes
from therapybridge.activities.renotes import apply_renotes, stage_edited_transcript
from therapybridge.db import TranscriptVersion, session_scope
from therapybridge.document import ExtractedNotes, Segment, SessionDocument, Speaker, Word
from therapybridge.domain.transcript_edits import EditError, LineEdit, apply_edits, names_follow_roles

MISHEARD = "Sometimes I think everyone would be better off with me."
CORRECTED = "Sometimes I think everyone would be better off without me."
PLAN_MISHEARD = "Let us keep a sure panic log this week."
PLAN_CORRECTED = "Let us keep a panic log this week."
THERAPIST_NAME = "Dr. Ann Lee"


# --------------------------------------------------------------------------- pure rules


def _speakers() -> list[Speaker]:
    return [
        Speaker(label="SPEAKER_00", role="therapist", name=THERAPIST_NAME),
        Speaker(label="SPEAKER_01", role="client", name="Sam"),
    ]


def _segments() -> list[Segment]:
    return [
        Segment(start=0.5, end=2.5, speaker="SPEAKER_00", role="therapist", text="How have things been this week?"),
        Segment(
            start=3.0, end=8.0, speaker="SPEAKER_01", role="client", text=MISHEARD,
            words=[Word(start=3.0, end=3.5, word="Sometimes")],
        ),
        Segment(start=9.0, end=12.0, speaker="SPEAKER_01", role="client", text=PLAN_MISHEARD),
    ]  # fmt: skip


def test_apply_edits_fixes_words_and_speakers() -> None:
    out, changed = apply_edits(
        _segments(), _speakers(), [LineEdit(1, text=f"  {CORRECTED} "), LineEdit(2, speaker="SPEAKER_00")]
    )
    assert changed == 2
    assert out[1].text == CORRECTED and out[1].words == []  # the misheard words' timings go
    assert (out[2].speaker, out[2].role, out[2].text) == ("SPEAKER_00", "therapist", PLAN_MISHEARD)
    assert apply_edits(_segments(), _speakers(), [LineEdit(1, text=MISHEARD)])[1] == 0  # unchanged: nothing
    for bad in (
        LineEdit(7, text="x"),
        LineEdit(0, text="   "),
        LineEdit(0, speaker="SPEAKER_09"),
        LineEdit(0, "a\x00"),
    ):
        with pytest.raises(EditError):
            apply_edits(_segments(), _speakers(), [bad])


def test_names_follow_the_role_on_a_swap() -> None:
    before = _speakers()
    swapped = [before[0].model_copy(update={"role": "client"}), before[1].model_copy(update={"role": "therapist"})]
    after = names_follow_roles(before, swapped, named=set())
    assert {s.role: s.name for s in after} == {"therapist": THERAPIST_NAME, "client": "Sam"}
    assert {s.label: s.role for s in after} == {"SPEAKER_00": "client", "SPEAKER_01": "therapist"}
    # A name sent with the change wins; a change that is not a swap keeps the names with the voices.
    assert names_follow_roles(before, swapped, named={"SPEAKER_01"})[1].name == "Sam"
    both_clients = [before[0].model_copy(update={"role": "client"}), before[1]]
    assert [s.name for s in names_follow_roles(before, both_clients, set())] == [THERAPIST_NAME, "Sam"]


# --------------------------------------------------------------------------- over HTTP


def _document(therapist_id: str, patient_id: str) -> SessionDocument:
    return SessionDocument(
        id=str(uuid.uuid4()),
        therapist_id=therapist_id,
        patient_id=patient_id,
        status="processed",
        progress=100,
        audio_filename="edit.flac",
        diarization="ok",
        speakers=_speakers(),
        transcript_segments=_segments(),
        extracted_notes=ExtractedNotes(key_topics=["the week"], patient_mood="tired"),
    )


async def _renotes_inline(session_id: str, version: int) -> None:
    """RenotesWorkflow's three activities, in its order, each with a fresh run id."""
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_run_id=str(uuid.uuid4()))
    staged = await env.run(stage_edited_transcript, m.RenotesInput(session_id=session_id, version=version))
    if not staged:
        return
    ok = True
    try:
        await env.run(notes, m.NotesRequest(session_id=session_id, merged_ref=staged))
    except Exception:
        ok = False
    await env.run(apply_renotes, m.RenotesOutcome(session_id=session_id, version=version, ok=ok, staged_ref=staged))


@asynccontextmanager
async def _gateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, renotes: bool = True) -> AsyncIterator[Gateway]:
    started: list[int] = []

    async def start(_temporal: Any, _settings: Any, session_id: str, version: int) -> None:
        started.append(version)
        await _renotes_inline(session_id, version)

    if renotes:
        monkeypatch.setattr("therapybridge.api.runs.start_renotes", start)
    async with local_gateway(tmp_path, monkeypatch) as gw:
        gw.started = started  # type: ignore[attr-defined]
        yield gw


async def _setup(gw: Gateway) -> tuple[str, str, str]:
    token, user_id = await gw.token()
    async with gw.client(token) as c:
        patient = (await c.post("/api/patients", json={"name": "Pat Editpatient"})).json()["id"]
    doc = _document(user_id, patient)
    await db.upsert_session(doc)
    return token, user_id, doc.id


async def test_line_edits_are_versioned_and_rebuild_the_notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with _gateway(tmp_path, monkeypatch) as gw:
        token, _user, sid = await _setup(gw)
        base = f"/api/sessions/{sid}"
        async with gw.client(token) as c:
            state = (await c.get(f"{base}/transcript/versions")).json()
            assert state == {"version": 1, "notes_status": None, "versions": []}  # never corrected
            # The note is signed before the correction: it must survive it.
            note = (await c.get(f"{base}/signoff")).json()["note"]["current"]
            assert (await c.post(f"{base}/note/sign", json={"version": note["version"]})).status_code == 200

            body = {
                "base_version": 1,
                "edits": [
                    {"index": 1, "text": CORRECTED},
                    {"index": 2, "text": PLAN_CORRECTED, "speaker": "SPEAKER_00"},
                ],
            }
            r = await c.patch(f"{base}/transcript", json=body)
            assert r.status_code == 200, r.text
            doc = r.json()
            assert [s["text"] for s in doc["transcript_segments"]][1:] == [CORRECTED, PLAN_CORRECTED]
            assert doc["transcript_segments"][2]["role"] == "therapist"
            assert CORRECTED in doc["transcript_text"] and MISHEARD not in doc["transcript_text"]

            # Versioned: the machine transcript stays as version 1.
            state = (await c.get(f"{base}/transcript/versions")).json()
            assert [(v["version"], v["source"], v["changed"]) for v in state["versions"]] == [
                (1, "machine", 0),
                (2, "edit", 2),
            ]
            assert state["version"] == 2 and state["notes_status"] == "done"
            machine = (await c.get(f"{base}/transcript", params={"version": 1})).json()
            assert [s["text"] for s in machine["segments"]][1:] == [MISHEARD, PLAN_MISHEARD]
            assert (await c.get(f"{base}/transcript")).json()["version"] == 2

            # The notes were rebuilt from the corrected words: the risk the misheard line hid is flagged.
            doc = (await c.get(base)).json()
            assert [f["quote"] for f in doc["extracted_notes"]["risk_flags"]] == [CORRECTED]
            # The signed note stands; the rebuilt one is a draft beside it.
            so = (await c.get(f"{base}/signoff")).json()
            assert so["note"]["final"]["version"] == note["version"] and so["note"]["final"]["status"] == "signed"
            assert so["note"]["current"]["status"] == "draft" and so["note"]["current"]["source"] == "reprocess"
            assert so["open_flags"] == 1

            # Exports use the corrected text.
            txt = (await c.get(f"{base}/transcript.txt")).text
            assert CORRECTED in txt and PLAN_CORRECTED in txt and "sure panic" not in txt

            # A stale copy, a missing line, an empty line: refused, nothing recorded.
            assert (await c.patch(f"{base}/transcript", json=body)).status_code == 409
            bad = {"base_version": 2, "edits": [{"index": 99, "text": "x"}]}
            assert (await c.patch(f"{base}/transcript", json=bad)).status_code == 400
            bad = {"base_version": 2, "edits": [{"index": 0, "text": " "}]}
            assert (await c.patch(f"{base}/transcript", json=bad)).status_code == 400
            assert (await c.get(f"{base}/transcript/versions")).json()["version"] == 2

        admin, _ = await gw.token("admin")
        async with gw.client(admin) as c:  # administrators read, but do not correct someone's session
            assert (await c.get(f"{base}/transcript/versions")).status_code == 200
            r = await c.patch(f"{base}/transcript", json={"base_version": 2, "edits": [{"index": 0, "text": "Hi."}]})
            assert r.status_code == 403
        other, _ = await gw.token()
        async with gw.client(other) as c:
            assert (await c.get(f"{base}/transcript", params={"version": 1})).status_code == 404


async def test_role_swap_is_undoable_and_names_stay_with_the_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _gateway(tmp_path, monkeypatch) as gw:
        token, _user, sid = await _setup(gw)
        base = f"/api/sessions/{sid}"
        async with gw.client(token) as c:
            swap = {
                "speakers": [{"label": "SPEAKER_00", "role": "client"}, {"label": "SPEAKER_01", "role": "therapist"}]
            }
            r = await c.patch(f"{base}/speakers", json={**swap, "base_version": 1})
            assert r.status_code == 200, r.text
            doc = r.json()
            assert {s["label"]: (s["role"], s["name"]) for s in doc["speakers"]} == {
                "SPEAKER_00": ("client", "Sam"),
                "SPEAKER_01": ("therapist", THERAPIST_NAME),  # the name stayed with the therapist
            }
            assert [s["role"] for s in doc["transcript_segments"]] == ["client", "therapist", "therapist"]
            state = (await c.get(f"{base}/transcript/versions")).json()
            assert [v["source"] for v in state["versions"]] == ["machine", "roles"]
            assert state["notes_status"] == "done" and gw.started == [2]  # roles changed: notes rebuilt

            # Undo: back to version 1, as a new version; the names and roles come back.
            r = await c.post(f"{base}/transcript/revert", json={"version": 1, "base_version": 2})
            assert r.status_code == 200, r.text
            doc = r.json()
            assert [(s["role"], s["name"]) for s in doc["speakers"]] == [
                ("therapist", THERAPIST_NAME),
                ("client", "Sam"),
            ]
            assert [s["role"] for s in doc["transcript_segments"]] == ["therapist", "client", "client"]
            state = (await c.get(f"{base}/transcript/versions")).json()
            assert [(v["version"], v["source"], v["based_on"]) for v in state["versions"]][-1] == (3, "revert", 2)
            assert gw.started == [2, 3]
            # A rename alone is a version but no re-notes.
            r = await c.patch(f"{base}/speakers", json={"speakers": [{"label": "SPEAKER_01", "name": "Sam K."}]})
            assert r.status_code == 200 and gw.started == [2, 3]
            assert (await c.get(f"{base}/transcript/versions")).json()["notes_status"] is None
            assert (await c.post(f"{base}/transcript/revert", json={"version": 9})).status_code == 404


async def test_notes_not_started_without_temporal_then_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with _gateway(tmp_path, monkeypatch, renotes=False) as gw:  # Temporal unreachable
        token, _user, sid = await _setup(gw)
        base = f"/api/sessions/{sid}"
        async with gw.client(token) as c:
            r = await c.patch(f"{base}/transcript", json={"edits": [{"index": 1, "text": CORRECTED}]})
            assert r.status_code == 200  # the correction stands
            assert (await c.get(f"{base}/transcript/versions")).json()["notes_status"] == "not_started"
            monkeypatch.setattr(
                "therapybridge.api.runs.start_renotes", lambda _t, _s, session_id, v: _renotes_inline(session_id, v)
            )
            r = await c.post(f"{base}/transcript/renotes")
            assert r.status_code == 202 and r.json()["notes_status"] == "done"


async def test_the_note_as_pdf_and_docx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with _gateway(tmp_path, monkeypatch) as gw:
        token, _user, sid = await _setup(gw)
        base = f"/api/sessions/{sid}"
        async with gw.client(token) as c:
            r = await c.get(f"{base}/note.pdf")
            assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
            assert r.headers["content-disposition"] == f'attachment; filename="session-{sid}-note-v1.pdf"'
            text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(r.content)).pages)
            assert "Clinical note (SOAP)" in text and "DRAFT — not signed" in text and "S — Subjective" in text

            state = (await c.get(f"{base}/signoff")).json()["note"]["current"]
            edited = state["text"] + "\nPlan: keep a panic log — reviewed together.\n"
            v2 = (await c.put(f"{base}/note", json={"text": edited, "base_version": 1})).json()["version"]
            assert (await c.post(f"{base}/note/sign", json={"version": v2})).status_code == 200
            pdf = pypdf.PdfReader(io.BytesIO((await c.get(f"{base}/note.pdf")).content))
            text = "\n".join(p.extract_text() for p in pdf.pages)
            assert "Signed by therapist-" in text and "keep a panic log — reviewed together." in text
            assert "DRAFT" not in text

            r = await c.get(f"{base}/note.docx")
            assert r.status_code == 200 and r.headers["content-type"].endswith("wordprocessingml.document")
            paragraphs = [p.text for p in Document(io.BytesIO(r.content)).paragraphs]
            assert paragraphs[0] == "Clinical note (SOAP)" and paragraphs[1].startswith("Signed by therapist-")
            assert "Plan: keep a panic log — reviewed together." in paragraphs
            assert (await c.get(f"{base}/note.docx", params={"version": 1})).status_code == 200
            assert (await c.get(f"{base}/note.pdf", params={"version": 9})).status_code == 409
        other, _ = await gw.token()
        async with gw.client(other) as c:
            assert (await c.get(f"{base}/note.pdf")).status_code == 404


async def test_delete_removes_every_transcript_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with _gateway(tmp_path, monkeypatch) as gw:
        token, _user, sid = await _setup(gw)
        async with gw.client(token) as c:
            r = await c.patch(f"/api/sessions/{sid}/transcript", json={"edits": [{"index": 1, "text": CORRECTED}]})
            assert r.status_code == 200
            assert (await c.delete(f"/api/sessions/{sid}")).status_code == 204
        async with session_scope() as s:
            from sqlmodel import col, select

            left = (await s.exec(select(TranscriptVersion).where(col(TranscriptVersion.session_id) == sid))).all()
        assert left == []
