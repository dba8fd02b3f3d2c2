"""Fault injection on real processes (issue 4): the gpu and io workers SIGKILLed, the Temporal server
stopped and started, the gateway restarted under watching clients, a transcription provider that
fails (a local server speaking the OpenAI protocol), a missing model, a cancellation, the supervisor's
restarts, and idempotent starts and saves.

Every test runs its own worker processes on its own task queues (tests/support/faults.py), so the
shared stack's workers are never touched; tests whose failures would reach the shared circuit
breakers use a database of their own. Loopback only; every wait is bounded."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import pytest_asyncio
import websockets
from sqlmodel import select
from temporalio.api.enums.v1 import EventType, TimeoutType
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError, CancelledError, WorkflowAlreadyStartedError

from bench.corpus_concat import build_session
from bench.scoring import normalise_text, wer
from tests.support.api import COMMENT, sse_events
from tests.support.faults import FakeOpenAI, Gateway, Lane, lane, own_temporal, read_log, wait_for
from tests.support.history import activity_runs, decode_details, pending_activities
from tests.support.ports import free_port
from tests.support.stack import Stack
from therapybridge import db
from therapybridge import messages as m
from therapybridge.activities.save import save as save_activity
from therapybridge.blobs import BlobStore, upload_key
from therapybridge.speech.asr.base import TranscriptionProviderError
from therapybridge.speech.asr.openai import OpenAIAsrConfig, OpenAITranscriber
from therapybridge.supervisor import Supervisor
from therapybridge.temporal import query_progress, start_session, wait_for_server, workflow_id

SESSION_TIMEOUT_S = 900.0


@pytest.fixture(scope="module")
def long_8min(corpus: Path, workdir: Path) -> Path:
    """≥ 8 minutes: three corpus sessions joined (~8.4 min, four or five windows)."""
    return build_session(8.4, workdir / "audio", corpus, ids=["d01", "d02", "d03"], name="long-8min").audio


@pytest.mark.slow
async def test_gpu_worker_sigkill_mid_transcription_resumes(stack: Stack, long_8min: Path) -> None:
    """SIGKILL the gpu worker while it transcribes; a new one finishes the session from the window
    checkpoints: the transcript matches an uninterrupted run and at most one window is redone."""
    # One transcription at a time (GPU_WORKER_CONCURRENCY=1): the kill interrupts one window. With N
    # concurrent transcriptions a crash loses the partial work of up to N windows. One thread: a
    # window takes several seconds.
    async with lane(
        stack.env, stack.settings, stack.workdir / "logs", gpu_worker_concurrency=1, asr_cpu_threads=1
    ) as ln:
        ref_inp = stack.stage_upload(long_8min)
        await asyncio.wait_for((await ln.start(ref_inp)).result(), SESSION_TIMEOUT_S)
        ref_doc = await stack.document(ref_inp.session_id)
        assert ref_doc is not None and ref_doc.status == "processed"

        inp = stack.stage_upload(long_8min)
        handle = await ln.start(inp)

        # Kill once the gpu worker has logged two finished windows and is running a third: its
        # heartbeat (the window's index) has reached the server, so the attempt is started there and
        # the kill lands inside it whatever the machine's load. (A fixed 1 s after the second window
        # once killed an idle worker on a loaded host, before it had taken the next window: nothing
        # was interrupted. A window takes tens of seconds on one thread, so it cannot end first.)
        def windows_logged() -> set[int]:
            return {
                r["window"] for r in ln.records("gpu")
                if r.get("session_id") == inp.session_id and r.get("stage") == m.TRANSCRIBE_WINDOW
                and r.get("msg") == "stage done"
            }  # fmt: skip

        async def third_window_running() -> bool:
            done = windows_logged()
            if len(done) < 2:
                return False
            return any(
                name == m.TRANSCRIBE_WINDOW and state == "STARTED" and details
                and details[0].get("window") not in done
                for name, state, details in await pending_activities(ln.client, inp.session_id)
            )  # fmt: skip

        await wait_for(third_window_running, 600, interval=0.1, what="a third window running after two")
        killed_at = time.time()
        ln.kill("gpu")
        ln.start_worker("gpu")
        await asyncio.wait_for(handle.result(), SESSION_TIMEOUT_S)

        doc = await stack.document(inp.session_id)
        assert doc is not None and doc.status == "processed" and doc.diarization == "ok"
        measured = wer(ref_doc.transcript_text, doc.transcript_text)
        runs = [r for r in await activity_runs(ln.client, inp.session_id) if r.name == m.TRANSCRIBE_WINDOW]
        window_len = max(r.input["end"] - r.input["start"] for r in runs)
        retried = [r for r in runs if r.attempt > 1]
        assert len(runs) >= 4, "too few windows to kill the worker inside one after two"
        assert retried, "the kill did not interrupt a window"
        # Audio transcribed twice: only windows whose later attempt really decoded (seconds > 0; a
        # window finished before the kill is a checkpoint hit with seconds == 0) can hold any. Their
        # first attempt died part way: at least the share of its last heartbeat that reached the server,
        # at most the whole window.
        redone = [r for r in retried if r.result["seconds"] > 0]
        upper = sum(r.input["end"] - r.input["start"] for r in redone)
        lower = 0.0
        for r in redone:
            info = r.last_failure.timeout_failure_info
            assert info.timeout_type == TimeoutType.TIMEOUT_TYPE_HEARTBEAT  # the dead worker went silent
            details = await decode_details(ln.client, info.last_heartbeat_details)
            lower += (details[0].get("progress", 0.0) if details else 0.0) * (r.input["end"] - r.input["start"])
        # The new worker started the interrupted window this long after the kill (heartbeat timeout).
        restarts = [
            float(datetime.fromisoformat(rec["ts"]).timestamp()) - rec["seconds"] - killed_at
            for rec in ln.records("gpu")
            if rec.get("stage") == "transcribe_window" and rec.get("session_id") == inp.session_id
            and rec.get("window") in {r.input["index"] for r in redone}
        ]  # fmt: skip
        print(
            f"\nWER vs uninterrupted {measured:.4f}; windows {len(runs)} (longest {window_len:.1f}s); retried "
            f"{[r.input['index'] for r in retried]}; re-transcribed audio between {lower:.1f}s and {upper:.1f}s; "
            f"interrupted window restarted {max(restarts, default=float('nan')):.1f}s after the kill"
        )
        assert measured <= 0.02
        assert upper <= window_len  # at most one window transcribed twice
        # The heartbeat timeout (asserted above as the failure's type) is what restarts the window; the
        # rest is the new worker loading its model and picking the task up, which a busy 2-core host and
        # the larger default model (base) stretch. The margin only has to tell the heartbeat path from
        # the window's start-to-close timeout (30 minutes), so it is wide: a timing bound is not a speed test.
        assert restarts and max(restarts) <= ln.settings.heartbeat_timeout_s + 90


async def _until_status(ln: Lane, session_id: str, statuses: set[str], timeout: float = 600) -> None:
    async def reached() -> bool:
        with contextlib.suppress(Exception):  # before the first workflow task answers queries
            p = await query_progress(ln.client, session_id)
            if p.status in ("processed", "failed", "cancelled") and p.status not in statuses:
                raise AssertionError(f"the session ended ({p.status}) before the fault was injected")
            return p.status in statuses
        return False

    await wait_for(reached, timeout, interval=0.5, what=f"status in {sorted(statuses)}")


async def _workflow_task_identities(ln: Lane, session_id: str) -> set[str]:
    history = await ln.client.get_workflow_handle(workflow_id(session_id)).fetch_history()
    return {
        e.workflow_task_started_event_attributes.identity
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
    }


@pytest.mark.slow
async def test_io_worker_sigkill_during_parallel_stage(stack: Stack, corpus: Path) -> None:
    """SIGKILL the io worker (it runs the workflow code) while the workflow waits on transcription and
    diarization; a restarted io worker replays the history and the session completes."""
    async with lane(stack.env, stack.settings, stack.workdir / "logs") as ln:
        inp = stack.stage_upload(corpus / "synthetic" / "d04.flac")
        handle = await ln.start(inp)
        await _until_status(ln, inp.session_id, {"transcribing", "diarizing"})
        ln.kill("io")
        await asyncio.sleep(3.0)  # the gpu worker carries on while no io worker exists
        ln.start_worker("io")
        await ln.wait_started("io", count=2)
        await asyncio.wait_for(handle.result(), SESSION_TIMEOUT_S)
        doc = await stack.document(inp.session_id)
        assert doc is not None and doc.status == "processed" and doc.diarization == "ok"
        assert doc.transcript_segments and doc.extracted_notes is not None
        # Workflow tasks were run by both io worker processes: the second one took over.
        assert len(await _workflow_task_identities(ln, inp.session_id)) >= 2


@pytest.mark.slow
async def test_temporal_server_restart_mid_session(stack: Stack, corpus: Path, tmp_path: Path) -> None:
    """Stop the Temporal dev server (persistent SQLite file) mid-session and start it again on the same
    port and file: workers and client reconnect, the session completes."""
    with own_temporal(tmp_path / "temporal") as server:
        async with lane(stack.env, stack.settings, stack.workdir / "logs", temporal_address=server.address) as ln:
            inp = stack.stage_upload(corpus / "synthetic" / "d04.flac")
            handle = await ln.start(inp)
            await _until_status(ln, inp.session_id, {"transcribing", "diarizing"})
            server.stop()
            assert server.proc is not None and server.proc.poll() is not None
            await asyncio.sleep(3.0)
            server.start()
            await asyncio.wait_for(handle.result(), SESSION_TIMEOUT_S)
            doc = await stack.document(inp.session_id)
            assert doc is not None and doc.status == "processed" and doc.diarization == "ok"
            assert doc.transcript_segments and doc.extracted_notes is not None


# --------------------------------------------------------------------------- providers that fail

JFK_TEXT = (
    "And so, my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
)


@pytest.fixture(scope="module")
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI(JFK_TEXT)
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="module")
async def provider_lane(stack: Stack, fake_openai: FakeOpenAI) -> AsyncIterator[Lane]:
    """An io worker and two gpu workers: one on the OpenAI provider (the local fake server) whose
    pyannote checkpoint is missing (diarization always fails), one whose ASR model path does not exist."""
    # A database of their own: the failures these workers record must not open the shared breakers.
    async with lane(stack.env, stack.settings, stack.workdir / "logs", workers=("io",), own_database=True) as ln:
        ln.start_worker(
            "gpu", ASR_PROVIDER="openai", OPENAI_BASE_URL=fake_openai.base_url, OPENAI_API_KEY=FakeOpenAI.API_KEY,
            DIARIZER="pyannote", PYANNOTE_CHECKPOINT="/nonexistent/pyannote",
        )  # fmt: skip
        ln.start_worker("gpu", name="gpu-nomodel", GPU_TASK_QUEUE=f"{ln.name}-gpu-nomodel", ASR_MODEL="/nonexistent")
        await ln.wait_started("gpu")
        await ln.wait_started("gpu-nomodel")
        yield ln


@pytest.mark.parametrize(
    ("status", "retryable", "error_type", "retry_after"),
    [
        (429, True, "ProviderUnavailable", 7.0),
        (503, True, "ProviderUnavailable", None),
        (500, True, "ProviderUnavailable", None),
        (401, False, m.PROVIDER_AUTH, None),
        (403, False, m.PROVIDER_AUTH, None),
        (400, False, m.PROVIDER_BAD_REQUEST, None),
        (422, False, m.PROVIDER_BAD_REQUEST, None),
    ],
)
def test_openai_errors_map_to_retry_semantics(
    fake_openai: FakeOpenAI, status: int, retryable: bool, error_type: str, retry_after: float | None
) -> None:
    """The OpenAI backend against the protocol-speaking local server: which answers are retried."""
    fake_openai.script = [status]
    asr = OpenAITranscriber(OpenAIAsrConfig("whisper-1", api_key=FakeOpenAI.API_KEY, base_url=fake_openai.base_url))
    with pytest.raises(TranscriptionProviderError) as caught:
        asr.transcribe(np.zeros(16000, np.float32))
    err = caught.value
    assert (err.retryable, err.error_type, err.status, err.retry_after_s) == (
        retryable,
        error_type,
        status,
        retry_after,
    )
    assert f"HTTP {status}" in err.reason and "scripted" not in err.reason  # no response body in messages


def test_openai_timeouts_and_refused_connections_are_retryable(fake_openai: FakeOpenAI) -> None:
    fake_openai.script = [0]  # answers after 2 s
    slow = OpenAIAsrConfig("whisper-1", api_key=FakeOpenAI.API_KEY, base_url=fake_openai.base_url, timeout_s=0.5)
    with pytest.raises(TranscriptionProviderError) as caught:
        OpenAITranscriber(slow).transcribe(np.zeros(16000, np.float32))
    assert caught.value.retryable and "timed out" in caught.value.reason
    closed = OpenAIAsrConfig("whisper-1", api_key="x", base_url=f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(TranscriptionProviderError) as caught:
        OpenAITranscriber(closed).transcribe(np.zeros(16000, np.float32))
    assert caught.value.retryable and "unreachable" in caught.value.reason
    fake_openai.script = []
    segments, language = OpenAITranscriber(
        OpenAIAsrConfig("whisper-1", api_key=FakeOpenAI.API_KEY, base_url=fake_openai.base_url, language="en")
    ).transcribe(np.zeros(16000 * 11, np.float32), offset=100.0)
    assert language == "en" and normalise_text(segments[0].text) == normalise_text(JFK_TEXT)
    assert segments[0].words[0].start >= 100.0 and segments[0].words[0].word.startswith(" ")


async def _failure_message(ln: Lane, failure: Any) -> str:
    exc = await ln.client.data_converter.decode_failure(failure)
    return getattr(exc, "message", str(exc))


@pytest.mark.slow
async def test_provider_503_twice_then_ok_and_diarization_always_failing(
    stack: Stack, corpus: Path, provider_lane: Lane, fake_openai: FakeOpenAI
) -> None:
    """The transcription API answers 503 twice, then a transcript: retried by Temporal's policy (the
    retries are in history), processed. Diarization fails every attempt: processed anyway, speakers
    Unknown, "speaker diarization unavailable"."""
    fake_openai.script = [503, 503]
    fake_openai.requests.clear()
    inp = stack.stage_upload(corpus / "real" / "jfk.flac")
    handle = await provider_lane.start(inp)
    await asyncio.wait_for(handle.result(), 300)
    assert [r["status"] for r in fake_openai.requests] == [503, 503, 200]

    doc = await provider_lane.document(inp.session_id)
    assert doc is not None and doc.status == "processed" and doc.diarization == "unavailable"
    assert normalise_text(doc.transcript_text.split(":", 1)[1]) == normalise_text(JFK_TEXT)
    assert {s.speaker for s in doc.transcript_segments} == {"Unknown"} and doc.speaker_turns == []

    runs = await activity_runs(provider_lane.client, inp.session_id)
    (window,) = [r for r in runs if r.name == m.TRANSCRIBE_WINDOW]
    assert window.outcome == "completed" and window.attempt == 3  # two retries, visible in history
    assert "HTTP 503" in await _failure_message(provider_lane, window.last_failure)
    (diar,) = [r for r in runs if r.name == m.DIARIZE]
    assert diar.outcome == "failed" and diar.attempt == stack.settings.retry_max_attempts


@pytest.mark.slow
@pytest.mark.parametrize(("status", "message"), [(401, "HTTP 401"), (400, "HTTP 400")])
async def test_provider_non_retryable_error_fails_at_once(
    stack: Stack, corpus: Path, provider_lane: Lane, fake_openai: FakeOpenAI, status: int, message: str
) -> None:
    """401 (credentials) and 400 (request) are not retried: the session fails at once, clearly."""
    fake_openai.script = [status]
    fake_openai.requests.clear()
    inp = stack.stage_upload(corpus / "real" / "jfk.flac")
    t0 = time.monotonic()
    with pytest.raises(WorkflowFailureError):
        await asyncio.wait_for((await provider_lane.start(inp)).result(), 300)
    assert time.monotonic() - t0 < 60
    assert [r["status"] for r in fake_openai.requests] == [status]  # one request, no retry
    doc = await provider_lane.document(inp.session_id)
    assert doc is not None and doc.status == "failed" and doc.error and message in doc.error
    (window,) = [r for r in await activity_runs(provider_lane.client, inp.session_id) if r.name == m.TRANSCRIBE_WINDOW]
    assert window.outcome == "failed" and window.attempt == 1


@pytest.mark.slow
async def test_missing_asr_model_fails_at_once(stack: Stack, corpus: Path, provider_lane: Lane) -> None:
    """ASR_MODEL=/nonexistent: ModelUnavailable → non-retryable ConfigurationError, one attempt."""
    inp = stack.stage_upload(corpus / "real" / "jfk.flac")
    t0 = time.monotonic()
    with pytest.raises(WorkflowFailureError):
        queue = f"{provider_lane.name}-gpu-nomodel"
        await asyncio.wait_for((await provider_lane.start(inp, gpu_task_queue=queue)).result(), 300)
    assert time.monotonic() - t0 < 60
    doc = await provider_lane.document(inp.session_id)
    assert doc is not None and doc.status == "failed" and doc.error == "ASR model not found at /nonexistent"
    (window,) = [r for r in await activity_runs(provider_lane.client, inp.session_id) if r.name == m.TRANSCRIBE_WINDOW]
    assert window.outcome == "failed" and window.attempt == 1
    failure = await provider_lane.client.data_converter.decode_failure(window.failure)
    assert isinstance(failure, ApplicationError) and failure.type == m.CONFIGURATION and failure.non_retryable


# --------------------------------------------------------------------------- cancellation


@pytest.mark.slow
async def test_cancel_mid_transcription(stack: Stack, long_8min: Path) -> None:
    """Cancel while a window is being transcribed: the running activities stop within one heartbeat
    interval, the temporary files are removed, the session is `cancelled`.

    The heartbeat interval is how often a worker reports to the server: the workers send an activity's
    heartbeats at most every 5 s (workers.HEARTBEAT_THROTTLE; the SDK's own default would be
    0.8 x HEARTBEAT_TIMEOUT_S), and a cancellation reaches the activity in the answer to one of them
    (the activities' own keep-alive heartbeats every 5 s, so the SDK always has one to send).

    The whole 8-minute session is one window here (TRANSCRIBE_WINDOW_S=600: half a minute of work
    on one core), so the cancellation lands in the middle of a transcription: with the default
    120-s windows one can finish on its own in the seconds a cancellation takes to arrive."""
    hb_timeout = 10.0
    interval = 0.8 * hb_timeout
    async with lane(
        stack.env, stack.settings, stack.workdir / "logs", heartbeat_timeout_s=hb_timeout, transcribe_window_s=600
    ) as ln:
        inp = stack.stage_upload(long_8min)
        handle = await ln.start(inp)

        async def transcribing() -> bool:
            running = [a for a in await pending_activities(ln.client, inp.session_id) if a[1] == "STARTED"]
            return any(a[0] == m.TRANSCRIBE_WINDOW for a in running)

        await wait_for(transcribing, 600, interval=0.5, what="a window being transcribed")
        await asyncio.sleep(3.0)
        cancelled_at = time.time()
        await handle.cancel()
        with pytest.raises(WorkflowFailureError) as failure:
            await asyncio.wait_for(handle.result(), 120)
        assert isinstance(failure.value.cause, CancelledError)
        doc = await ln.document(inp.session_id) or await stack.document(inp.session_id)
        assert doc is not None and doc.status == "cancelled"

        def gpu_records_after_cancel() -> list[dict[str, Any]]:
            return [
                r for r in ln.records("gpu")
                if r.get("session_id") == inp.session_id and r.get("stage") in (m.TRANSCRIBE_WINDOW, m.DIARIZE)
                and datetime.fromisoformat(r["ts"]).timestamp() >= cancelled_at
            ]  # fmt: skip

        async def stopped() -> list[dict[str, Any]]:
            return [r for r in gpu_records_after_cancel() if r.get("msg") == "stage cancelled"]

        def gpu_trail() -> list[tuple[str, str, str | None, int | None]]:
            """The session's gpu log, for a failure message: what ran, ended or was cancelled when."""
            return [(r["ts"][11:23], r["msg"], r.get("stage"), r.get("window")) for r in ln.records("gpu")
                    if r.get("session_id") == inp.session_id]  # fmt: skip

        try:
            cancelled = await wait_for(stopped, interval + 30, what="an activity reporting its cancellation")
        except TimeoutError as exc:
            at = datetime.fromtimestamp(cancelled_at, UTC).isoformat()[11:23]
            raise AssertionError(f"{exc}; cancelled at {at}; gpu trail {gpu_trail()}") from None
        await asyncio.sleep(interval + 2)  # anything still running would show up now
        after = gpu_records_after_cancel()
        delays = [datetime.fromisoformat(r["ts"]).timestamp() - cancelled_at for r in after]
        print(f"\nactivities that ended after the cancel: {[(r['msg'], r.get('window')) for r in after]}; "
              f"stopped after {[round(d, 1) for d in delays]} s (interval {interval:.0f} s)")  # fmt: skip
        assert cancelled and max(delays) <= interval + 2.0
        # Nothing of the session's processing is left: only the upload stays (a retry needs it).
        keys = stack.blobs.session_keys(inp.session_id)
        left = {k: round(stack.blobs.path(k).stat().st_mtime - cancelled_at, 1) for k in keys}  # written when
        assert [k.split("/", 1)[1] for k in keys] == [Path(inp.upload_ref).name], (left, gpu_trail())


# --------------------------------------------------------------------------- the one-machine supervisor


@pytest.mark.slow
async def test_supervisor_restarts_dead_children(
    stack: Stack, corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`therapybridge serve`'s supervisor: SIGKILL the gpu worker, then the Temporal dev server; each
    comes back (logged, with backoff), and a session then runs through the restarted processes."""
    settings = stack.settings.model_copy(
        update={"data_dir": tmp_path / "data", "temporal_address": f"127.0.0.1:{free_port()}"}
    )
    settings.data_dir.mkdir(parents=True)
    sup = Supervisor(settings)
    caplog.set_level(logging.INFO, logger="therapybridge.supervisor")
    logs = settings.data_dir / "logs"
    try:
        assert await sup.start_server_if_needed(headless=True)
        sup.start_workers()
        sup.watch()
        children = {c.name: c for c in sup.children}
        for name in ("worker_io", "worker_gpu"):
            await wait_for(lambda n=name: _started(logs / f"{n}.log", 1), 180, what=f"{name} started")

        for name in ("worker_gpu", "temporal"):
            old = children[name].proc
            assert old is not None
            old.send_signal(signal.SIGKILL)

            async def back(c: Any = children[name], old: Any = old) -> bool:
                return c.proc is not old and c.alive()

            await wait_for(back, 30, what=f"{name} restarted")
            await asyncio.sleep(1.0)
            assert children[name].alive() and children[name].restarts == 1
        exits = [r for r in caplog.records if r.getMessage() == "child exited; restarting"]
        assert {(r.child, r.code) for r in exits} == {("worker_gpu", -signal.SIGKILL), ("temporal", -signal.SIGKILL)}  # type: ignore[attr-defined]
        assert len([r for r in caplog.records if r.getMessage() == "child started"]) >= 2 + 2
        await wait_for(lambda: _started(logs / "worker_gpu.log", 2), 180, what="the new gpu worker polling")

        # The restarted server (same SQLite file) and workers process a session.
        client = await wait_for_server(settings)
        store = BlobStore(settings.blob_dir)
        session_id = str(uuid.uuid4())
        key = upload_key(session_id, "jfk.flac")
        store.path(key).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / "real" / "jfk.flac", store.path(key))
        handle = await start_session(client, settings, m.SessionInput(session_id, key, "jfk.flac"))
        assert await asyncio.wait_for(handle.result(), 300) == "processed"
    finally:
        await sup.stop()
    assert all(not c.alive() for c in sup.children)


async def _started(log: Path, count: int) -> bool:
    return sum(1 for r in read_log(log) if r.get("msg") == "worker started") >= count


# --------------------------------------------------------------------------- the gateway restarts


async def _follow_ws(url: str, deadline: float) -> list[list[dict[str, Any]]]:
    """A WebSocket progress client that reconnects until it sees the final message: the progress
    messages of each connection."""
    connections: list[list[dict[str, Any]]] = []
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, websockets.WebSocketException, TimeoutError):
            async with websockets.connect(url, open_timeout=5) as ws:
                connections.append([])
                async for raw in ws:
                    msg = json.loads(raw)
                    if msg.get("type") == "progress":
                        connections[-1].append(msg)
                        if msg.get("final"):
                            return connections
        await asyncio.sleep(0.5)
    raise TimeoutError(f"WebSocket client saw no final message: {connections[-1:]}")


async def _follow_sse(url: str, token: str, deadline: float) -> list[tuple[str | None, list[tuple[str, str, Any]]]]:
    """An SSE client that reconnects with Last-Event-ID until the final event: per connection, the
    Last-Event-ID it sent and the (event, id, data) it received."""
    connections: list[tuple[str | None, list[tuple[str, str, Any]]]] = []
    last_id: str | None = None
    while time.monotonic() < deadline:
        headers = {"Authorization": f"Bearer {token}", **({"Last-Event-ID": last_id} if last_id else {})}
        with contextlib.suppress(httpx.TransportError):
            async with (
                httpx.AsyncClient(timeout=httpx.Timeout(10, read=60)) as c,
                c.stream("GET", url, headers=headers) as r,
            ):
                connections.append((last_id, []))
                if r.status_code == 204:  # resumed after the final event: nothing more will come
                    return connections
                async for ev in sse_events(r.aiter_lines()):
                    if ev.event == COMMENT:
                        continue
                    connections[-1][1].append((ev.event, ev.id or "", ev.data))
                    last_id = ev.id or ""
                    if ev.event in ("complete", "failed"):
                        return connections
        await asyncio.sleep(0.5)
    raise TimeoutError(f"SSE client saw no final event: {connections[-1:]}")


@pytest.mark.slow
async def test_gateway_restart_while_clients_watch(stack: Stack, long_8min: Path) -> None:
    """Restart the API gateway (killed, then started again on the same port) while a WebSocket and an
    SSE client watch a session: both reconnect (SSE resuming after Last-Event-ID, nothing replayed)
    and reach the final state. A graceful stop would let the SSE stream run on to the end of a short
    session during uvicorn's shutdown grace; a kill drops both clients at once."""
    async with lane(stack.env, stack.settings, stack.workdir / "logs", own_database=True) as ln:
        gateway = Gateway(ln.env, ln.log_path("api")).start()
        try:
            await gateway.wait_healthy()
            token, patient = await gateway.account()
            async with httpx.AsyncClient(base_url=gateway.base_url, timeout=120) as c:
                audio = long_8min.read_bytes()
                r = await c.post(
                    "/api/sessions/upload", files={"file": ("session.flac", audio)}, data={"patient_id": patient},
                    headers={"Authorization": f"Bearer {token}"},
                )  # fmt: skip
                assert r.status_code == 202, r.text
                sid = r.json()["id"]
            deadline = time.monotonic() + SESSION_TIMEOUT_S
            ws = asyncio.ensure_future(_follow_ws(f"{gateway.ws_url}/api/sessions/ws/{sid}?token={token}", deadline))
            sse = asyncio.ensure_future(_follow_sse(f"{gateway.base_url}/api/sessions/{sid}/status/stream", token,
                                                    deadline))  # fmt: skip
            await _until_status(ln, sid, {"transcribing", "diarizing"})
            await asyncio.sleep(2.0)  # both clients are connected and have had messages
            gateway.stop(signal.SIGKILL)
            await asyncio.sleep(1.0)
            gateway.start()
            ws_connections, sse_connections = await asyncio.gather(ws, sse)
        finally:
            gateway.stop()
    ws_connections = [c for c in ws_connections if c]
    assert len(ws_connections) >= 2  # it had to reconnect
    final = ws_connections[-1][-1]
    assert final["final"] and final["status"] == "processed" and final["progress"] == 100
    for messages in ws_connections:  # never backwards within a connection
        assert [x["progress"] for x in messages] == sorted(x["progress"] for x in messages)
    # (A fresh gateway's first message on a connection is the stored row, which may say less than
    # the previous connection saw; that is why SSE clients resume with Last-Event-ID.)
    resumed = [(last, events) for last, events in sse_connections if last is not None]
    assert resumed, "the SSE client never had to reconnect"
    for last, events in resumed:  # a resumed stream sends only what comes after Last-Event-ID
        assert all(_key(eid) > _key(last) for _, eid, _ in events), (last, events)
    event, _, data = sse_connections[-1][1][-1]
    assert event == "complete" and data["status"] == "processed" and data["progress"] == 100


def _key(event_id: str) -> tuple[int, ...]:
    return tuple(int(x) for x in event_id.split("."))


# --------------------------------------------------------------------------- idempotency


async def test_a_second_start_is_refused_while_a_run_exists(stack: Stack, corpus: Path) -> None:
    """Workflow id session-<uuid>: a second start while the session runs raises; after a failed (here:
    terminated) run, a retry starts a new run deliberately."""
    inp = stack.stage_upload(corpus / "real" / "jfk.flac")
    idle = stack.settings.model_copy(update={"io_task_queue": f"no-worker-{uuid.uuid4().hex[:8]}"})  # stays running
    first = await start_session(stack.client, idle, inp)
    try:
        with pytest.raises(WorkflowAlreadyStartedError):
            await start_session(stack.client, idle, inp)
    finally:
        await first.terminate("test over")
    retry = await start_session(stack.client, idle, inp)
    try:
        assert retry.result_run_id != first.result_run_id
    finally:
        await retry.terminate("test over")
        stack.blobs.delete_session(inp.session_id)


async def test_save_twice_leaves_one_row(stack: Stack, corpus: Path) -> None:
    """The save activity is an upsert: run twice (a retried attempt) it leaves one row, unchanged."""
    inp = stack.stage_upload(corpus / "real" / "jfk.flac")
    req = m.SaveRequest(session=inp, status="failed", error="no speech was detected", timings={"total_s": 1.0})
    await save_activity(req)
    first = await stack.document(inp.session_id)
    await save_activity(req)
    async with db.session_scope() as s:
        rows = (await s.exec(select(db.SessionRecord).where(db.SessionRecord.id == inp.session_id))).all()
    assert len(rows) == 1
    second = rows[0].to_document()
    assert first is not None and second.model_dump(exclude={"processed_at"}) == first.model_dump(
        exclude={"processed_at"}
    )
    stack.blobs.delete_session(inp.session_id)
