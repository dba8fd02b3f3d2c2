"""The whole pipeline through the real Temporal dev server and real worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError

from bench.scoring import role_accuracy, synthetic_reference, wer, word_speaker_accuracy
from tests.support.faults import wait_for
from tests.support.harness import WorkerProcess
from tests.support.stack import Stack
from therapybridge import messages as m
from therapybridge.speech.models import BASE_MODEL_SHA256
from therapybridge.temporal import query_progress, workflow_id

pytestmark = pytest.mark.slow


async def _run(stack: Stack, audio: Path, **settings_update: object) -> tuple[m.SessionInput, BaseException | None]:
    inp = stack.stage_upload(audio)
    settings = stack.settings.model_copy(update=settings_update) if settings_update else stack.settings
    handle = await stack.start(inp, settings)
    try:
        await asyncio.wait_for(handle.result(), timeout=600)
    except WorkflowFailureError as exc:
        return inp, exc
    return inp, None


@pytest.mark.parametrize("file_id", ["d01", "d09"])
async def test_synthetic_session_end_to_end(stack: Stack, corpus: Path, file_id: str) -> None:
    inp, err = await _run(stack, corpus / "synthetic" / f"{file_id}.flac")
    assert err is None
    doc = await stack.document(inp.session_id)  # read back from Postgres
    assert doc is not None and doc.status == "processed" and doc.progress == 100
    ref = synthetic_reference(corpus / "synthetic" / f"{file_id}.json")
    assert wer(ref.text or "", " ".join(s.text for s in doc.transcript_segments)) <= 0.10
    assert len(doc.speakers) == 2 and doc.diarization == "ok"
    assert word_speaker_accuracy(doc.transcript_segments, ref.turns) >= 0.95
    assert role_accuracy(doc.transcript_segments, ref.turns) >= 0.95
    assert {s.role for s in doc.speakers} == {"therapist", "client"}
    assert doc.transcript_text.startswith(("Therapist: ", "Client: "))
    assert doc.speaker_turns and doc.duration_seconds == pytest.approx(ref.uem[1], abs=0.5)
    notes = doc.extracted_notes
    assert notes is not None and notes.key_topics and notes.therapist_notes and notes.patient_summary
    if file_id == "d09":
        assert any(f.type == "suicidal_ideation" for f in notes.risk_flags)
    assert {"preprocess_s", "transcribe_s", "diarize_s", "notes_s", "total_s"} <= set(doc.timings)
    # The document names the models that produced it (the bundled base by default, with its hash).
    models = doc.models
    assert models.asr and models.asr.name == "whisper-base" and BASE_MODEL_SHA256 in models.asr.version
    assert models.vad and models.vad.name == "silero-vad" and "faster-whisper" in models.vad.version
    assert models.diarizer and models.diarizer.name == "embedded" and "resemblyzer" in models.diarizer.version
    assert models.notes and models.notes.name == "local extractor"
    # Raw audio is gone after processing (retention off by default); the document stays.
    assert not any("upload" in k or k.endswith(".wav") for k in stack.blobs.session_keys(inp.session_id))


async def test_progress_query_is_monotonic(stack: Stack, corpus: Path) -> None:
    inp = stack.stage_upload(corpus / "real" / "jfk.flac")
    handle = await stack.start(inp)
    seen: list[int] = []
    result = asyncio.ensure_future(handle.result())
    while not result.done():
        with contextlib.suppress(Exception):  # before the first workflow task
            seen.append((await query_progress(stack.client, inp.session_id)).progress)
        await asyncio.sleep(0.2)
    await result
    p = await query_progress(stack.client, inp.session_id)
    assert p.status == "processed" and p.progress == 100
    assert seen == sorted(seen) and len(set(seen)) >= 3
    assert {"validate", "preprocess", "merge", "notes"} <= set(p.stage_timings)
    # What an operator's query in the Temporal UI finds (docs/operations.md); visibility lags a little.
    query = f'WorkflowId = "{workflow_id(inp.session_id)}" AND SessionStatus = "processed" AND SessionStage = "done"'

    async def found() -> bool:
        return (await stack.client.count_workflows(query)).count == 1

    await wait_for(found, 180, interval=0.5, what="the session by its search attributes")


async def test_corrupt_file_fails_fast_without_retries(stack: Stack, tmp_path: Path) -> None:
    bad = tmp_path / "session.mp3"
    bad.write_bytes(b"ID3" + bytes(range(256)) * 40)  # an ID3 tag then garbage
    t0 = time.monotonic()
    inp, err = await _run(stack, bad)
    assert isinstance(err, WorkflowFailureError)
    assert time.monotonic() - t0 < 20
    doc = await stack.document(inp.session_id)
    assert doc is not None and doc.status == "failed"
    assert doc.error and ("cannot read audio" in doc.error or "corrupt" in doc.error)
    history = await stack.client.get_workflow_handle(f"session-{inp.session_id}").fetch_history()
    starts = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    assert [e.activity_task_started_event_attributes.attempt for e in starts] == [1, 1]  # validate, save
    query = f'WorkflowId = "{workflow_id(inp.session_id)}" AND SessionStatus = "failed" AND SessionStage = "validate"'

    async def found() -> bool:
        return (await stack.client.count_workflows(query)).count == 1

    await wait_for(found, 180, interval=0.5, what="the failed session by its search attributes")


async def test_silence_fails_with_no_speech(stack: Stack, corpus: Path) -> None:
    inp, err = await _run(stack, corpus / "real" / "empty.wav")
    assert isinstance(err, WorkflowFailureError)
    doc = await stack.document(inp.session_id)
    assert doc is not None and doc.status == "failed" and doc.error == "no speech was detected in the recording"


async def test_diarization_failure_yields_unknown_speakers(stack: Stack, corpus: Path) -> None:
    """A gpu worker whose diarizer is misconfigured (pyannote checkpoint missing): transcription
    still succeeds and the session is processed with every speaker Unknown."""
    queue = "therapybridge-gpu-broken-diarizer"
    env = {**stack.env, "GPU_TASK_QUEUE": queue, "DIARIZER": "pyannote", "PYANNOTE_CHECKPOINT": "/nonexistent/ckpt"}
    worker = WorkerProcess("therapybridge.worker_gpu", env, stack.workdir / "logs" / "worker_gpu-broken.log").start()
    try:
        inp, err = await _run(stack, corpus / "real" / "jfk.flac", gpu_task_queue=queue)
    finally:
        worker.kill()
    assert err is None
    doc = await stack.document(inp.session_id)
    assert doc is not None and doc.status == "processed" and doc.diarization == "unavailable"
    assert doc.speaker_turns == []
    assert doc.transcript_segments and {s.speaker for s in doc.transcript_segments} == {"Unknown"}
    assert all(s.role is None for s in doc.transcript_segments)
    assert "ask not what your country" in doc.transcript_text.lower()
