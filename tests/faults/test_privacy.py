"""Patient data stays private: nothing readable in Temporal history without the codec key, no payload
over 256 KB whatever the session length, no patient text in the workers' logs, audio not kept after
processing (unless RETAIN_AUDIO), artifacts of failed sessions purged by the schedule's workflow.

Sessions run on a lane of their own (own workers, own database: the purge sees only these sessions)
so that the logs read here are exactly this module's end-to-end runs."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import WorkflowFailureError

from bench.corpus_concat import build_session
from tests.support.faults import Lane, lane, read_log
from tests.support.history import is_plain_bookkeeping, iter_payloads, raw_history
from tests.support.stack import Stack
from therapybridge import messages as m
from therapybridge.activities.save import apply_retention
from therapybridge.blobs import BlobStore
from therapybridge.document import SessionDocument
from therapybridge.temporal import PURGE_SCHEDULE_ID, workflow_id

MAX_PAYLOAD = 256 * 1024
# A file name that is patient data (a clinician's naming habit): it must never leave the database.
AUDIO_NAME = "Zelda Quixote-Testpatient intake 2026-03-01.flac"
PATIENT_NAME = "Zelda Quixote-Testpatient"


@pytest_asyncio.fixture(scope="module")
async def privacy_lane(stack: Stack) -> AsyncIterator[Lane]:
    """io + gpu workers at the production log level (INFO, JSON), a second io worker with
    RETAIN_AUDIO=true on its own queue, and a database of their own."""
    async with lane(stack.env, stack.settings, stack.workdir / "logs", own_database=True, log_level="INFO") as ln:
        ln.start_worker("io", name="io-retain", IO_TASK_QUEUE=f"{ln.name}-io-retain", RETAIN_AUDIO="true")
        await ln.wait_started("io-retain")
        yield ln


async def _process(ln: Lane, stack: Stack, audio: Path, name: str, **update: object) -> SessionDocument:
    inp = stack.stage_upload(audio, name)
    await asyncio.wait_for((await ln.start(inp, **update)).result(), 1200)
    doc = await ln.document(inp.session_id)
    assert doc is not None and doc.status == "processed"
    return doc


@pytest_asyncio.fixture(scope="module")
async def d09(privacy_lane: Lane, stack: Stack, corpus: Path) -> SessionDocument:
    """A processed session with a risk flag (passive suicidal ideation) and notes."""
    doc = await _process(privacy_lane, stack, corpus / "synthetic" / "d09.flac", AUDIO_NAME)
    assert doc.extracted_notes is not None and doc.extracted_notes.risk_flags
    return doc


def needles(doc: SessionDocument) -> list[str]:
    """What must not appear: every 4-word sequence of the transcript, the risk quotes, sentences of
    the notes, the file name and the patient's name (lower case)."""
    out = {AUDIO_NAME.lower(), PATIENT_NAME.lower(), Path(AUDIO_NAME).stem.lower()}
    for seg in doc.transcript_segments:
        words = seg.text.lower().split()
        out |= {" ".join(words[i : i + 4]) for i in range(max(1, len(words) - 3))}
    notes = doc.extracted_notes
    assert notes is not None
    out |= {f.quote.lower() for f in notes.risk_flags}
    for text in (notes.therapist_notes, notes.patient_summary):
        out |= {s.strip().lower() for s in re.split(r"(?<=[.!?])\s+", text or "") if len(s.split()) >= 4}
    return sorted(n for n in out if len(n) >= 12)  # short sequences ("i do not") say nothing


def found_in(haystack: bytes, doc: SessionDocument) -> list[str]:
    text = haystack.decode("utf-8", errors="ignore").lower()
    return [n for n in needles(doc) if n in text]


# --------------------------------------------------------------------------- history


async def test_history_without_the_codec_shows_no_patient_text(privacy_lane: Lane, d09: SessionDocument) -> None:
    history = await raw_history(privacy_lane.settings.temporal_address, d09.id)
    raw = history.SerializeToString()
    assert len(needles(d09)) > 100  # the check has something to look for
    assert found_in(raw, d09) == []
    # Positive control: decrypted with the key, the same history names the file (SessionInput).
    codec = privacy_lane.client.data_converter.payload_codec
    assert codec is not None
    decoded = b"".join(p.SerializeToString() for p in await codec.decode(list(iter_payloads(history))))
    assert AUDIO_NAME.encode() in decoded and AUDIO_NAME.encode() not in raw
    # Everything but the patch markers and search attributes Temporal reads itself (stage/status words).
    sealed = [p for e in history.events if not is_plain_bookkeeping(e) for p in iter_payloads(e)]
    assert sealed and all(p.metadata.get("encoding") == b"binary/encrypted" for p in sealed)


@pytest.mark.slow
async def test_no_payload_over_256kb_for_a_30_minute_session(
    privacy_lane: Lane, stack: Stack, corpus: Path, workdir: Path
) -> None:
    """History carries references and counts, never audio or transcripts: a 30-minute session's
    largest payload stays far below 256 KB."""
    audio = build_session(31.0, workdir / "audio", corpus, name="long-31min").audio
    doc = await _process(privacy_lane, stack, audio, "long-30min.flac")
    assert doc.duration_seconds is not None and doc.duration_seconds >= 30 * 60
    history = await raw_history(privacy_lane.settings.temporal_address, doc.id)
    sizes = [p.ByteSize() for p in iter_payloads(history)]
    handle = privacy_lane.client.get_workflow_handle(workflow_id(doc.id))
    windows = (await handle.query("progress", result_type=m.Progress)).windows_total
    print(
        f"\n30-min session ({doc.duration_seconds / 60:.1f} min, {windows} windows): {len(sizes)} payloads, "
        f"largest {max(sizes)} bytes, history {history.ByteSize()} bytes"
    )
    assert max(sizes) < MAX_PAYLOAD
    assert found_in(history.SerializeToString(), doc) == []


# --------------------------------------------------------------------------- logs


async def test_worker_logs_hold_no_patient_text(privacy_lane: Lane, d09: SessionDocument) -> None:
    """Every line the workers wrote at the production level (INFO): no transcript, quote, notes,
    file or patient name; structured JSON records with the session id, stage timings and outcome."""
    logs = [privacy_lane.log_path(n) for n in ("io", "gpu")]
    raw = b"".join(p.read_bytes() for p in logs)
    assert found_in(raw, d09) == []
    records = [r for p in logs for r in read_log(p)]
    lines = [ln for p in logs for ln in p.read_text(errors="replace").splitlines() if ln.strip()]
    ours = [ln for ln in lines if '"logger": "therapybridge' in ln or "therapybridge." in ln[:200]]
    assert all(_is_json(ln) for ln in ours)  # our records are all structured
    stages = {r["stage"]: r for r in records if r.get("session_id") == d09.id and "seconds" in r}
    assert {"validate", "preprocess", "transcribe_window", "diarize", "merge", "notes", "save"} <= set(stages)
    assert all(isinstance(r["seconds"], float | int) for r in stages.values())
    assert stages["save"]["status"] == "processed"  # the outcome


def _is_json(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


# --------------------------------------------------------------------------- retention and purge


def test_apply_retention(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    names = ["upload.flac", "audio16k.wav", "vad.json", "windows/0000.json", "diarization-checkpoint/emb-1.npz",
             "diarization.json", "merged.json", "notes.json"]  # fmt: skip

    def session() -> str:
        sid = str(uuid.uuid4())
        for n in names:
            store.write_bytes(f"{sid}/{n}", b"x")
        return sid

    def left(sid: str) -> list[str]:
        return [k.split("/", 1)[1] for k in store.session_keys(sid)]

    sid = session()
    apply_retention(sid, "processed", store, retain_audio=False)
    assert left(sid) == ["diarization.json", "merged.json", "notes.json"]
    sid = session()
    apply_retention(sid, "processed", store, retain_audio=True)
    assert left(sid) == ["audio16k.wav", "diarization.json", "merged.json", "notes.json", "upload.flac"]
    for status in ("failed", "cancelled"):
        sid = session()
        apply_retention(sid, status, store, retain_audio=False)
        assert left(sid) == ["upload.flac"]  # kept for a retry until the purge


async def test_processed_session_keeps_no_audio_unless_retained(
    privacy_lane: Lane, stack: Stack, corpus: Path, d09: SessionDocument
) -> None:
    assert [k.split("/", 1)[1] for k in stack.blobs.session_keys(d09.id)] == [
        "diarization.json", "merged.json", "notes.json"
    ]  # fmt: skip
    kept = await _process(privacy_lane, stack, corpus / "real" / "jfk.flac", "jfk.flac",
                          io_task_queue=f"{privacy_lane.name}-io-retain")  # fmt: skip
    assert {"upload.flac", "audio16k.wav"} <= {k.split("/", 1)[1] for k in stack.blobs.session_keys(kept.id)}


async def test_purge_removes_artifacts_of_failed_sessions(
    privacy_lane: Lane, stack: Stack, tmp_path: Path, d09: SessionDocument
) -> None:
    """A failed session keeps its upload (for a retry) until the purge: PurgeWorkflow with TTL 0 (what
    the hourly Temporal Schedule runs with ARTIFACT_TTL_HOURS) removes it; the row and its error stay,
    processed sessions are untouched."""
    bad = tmp_path / "session.mp3"
    bad.write_bytes(b"ID3" + bytes(range(256)) * 40)
    inp = stack.stage_upload(bad)
    with pytest.raises(WorkflowFailureError):
        await asyncio.wait_for((await privacy_lane.start(inp)).result(), 120)
    assert [k.split("/", 1)[1] for k in stack.blobs.session_keys(inp.session_id)] == ["upload.mp3"]
    before = stack.blobs.session_keys(d09.id)

    purged = await privacy_lane.client.execute_workflow(
        "PurgeWorkflow", 0.0, id=f"purge-test-{uuid.uuid4()}", task_queue=privacy_lane.settings.io_task_queue,
        result_type=int,
    )  # fmt: skip
    assert purged >= 1 and stack.blobs.session_keys(inp.session_id) == []
    doc = await privacy_lane.document(inp.session_id)
    assert doc is not None and doc.status == "failed" and doc.error
    assert stack.blobs.session_keys(d09.id) == before
    # The schedule that runs it every hour exists on the server.
    desc = await privacy_lane.client.get_schedule_handle(PURGE_SCHEDULE_ID).describe()
    assert desc.schedule.action.workflow == "PurgeWorkflow"  # type: ignore[union-attr]
    assert desc.schedule.spec.intervals[0].every.total_seconds() == 3600


async def test_upload_keys_hold_no_file_name(stack: Stack, corpus: Path) -> None:
    inp = stack.stage_upload(corpus / "real" / "jfk.flac", AUDIO_NAME)
    assert inp.upload_ref == f"{inp.session_id}/upload.flac"
    stack.blobs.delete_session(inp.session_id)
