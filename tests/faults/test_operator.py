"""The operator's truth, on the real dev server: a frozen gpu worker shows as a stall (health, the
session's status, a log line), a workflow terminated from outside becomes `failed` and Retry runs it,
and the Temporal CLI steps of docs/operations.md work as written.

This module runs its own gateway and workers on task queues of their own, so freezing its gpu worker
(SIGSTOP) never holds up another test's sessions. Every stopped process is continued in teardown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType

from tests.support.api import PATIENT_NAME, Account, Api, make_account, sse_events, upload, wait_status
from tests.support.faults import wait_for
from tests.support.harness import CORPUS, REPO, WorkerProcess, temporal_cli
from tests.support.ports import free_port
from tests.support.stack import Stack
from therapybridge.supervisor import queue_has_pollers
from therapybridge.temporal import PURGE_SCHEDULE_ID, workflow_id

pytestmark = pytest.mark.slow
AUDIO = CORPUS / "real" / "jfk.flac"  # 11 s
STALL_AFTER_S = 4.0
OPERATOR = "processing was stopped by an operator"


@dataclass
class Ops:
    api: Api
    gpu: WorkerProcess
    io: WorkerProcess
    address: str
    gpu_queue: str
    io_queue: str
    who: Account

    @contextlib.contextmanager
    def gpu_frozen(self) -> Iterator[None]:
        """SIGSTOP the gpu worker; SIGCONT it however the block ends."""
        assert self.gpu.proc is not None and self.gpu.proc.poll() is None
        self.gpu.proc.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            with contextlib.suppress(ProcessLookupError):
                self.gpu.proc.send_signal(signal.SIGCONT)

    def cli(self, *args: str) -> str:
        """A `temporal` command as docs/operations.md writes it (with --address)."""
        done = subprocess.run(
            [temporal_cli(), *args, "--address", self.address],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"temporal {' '.join(args)}: {done.stderr[-800:]}"
        return done.stdout


@pytest_asyncio.fixture(scope="module")
async def ops(stack: Stack) -> AsyncIterator[Ops]:
    tag = uuid.uuid4().hex[:8]
    gpu_queue, io_queue = f"ops-gpu-{tag}", f"ops-io-{tag}"
    env = {
        **stack.env,
        "GPU_TASK_QUEUE": gpu_queue,
        "IO_TASK_QUEUE": io_queue,
        "STALL_AFTER_S": str(STALL_AFTER_S),
        "STALL_CHECK_S": "1",
        "MAX_ACTIVE_SESSIONS_PER_USER": "1000",
    }
    logs = stack.workdir / "logs"
    io = WorkerProcess("therapybridge.worker_io", env, logs / f"ops-worker_io-{tag}.log").start()
    gpu = WorkerProcess("therapybridge.worker_gpu", env, logs / f"ops-worker_gpu-{tag}.log").start()
    port = free_port()
    api_log = logs / f"ops-api-{tag}.log"
    proc: subprocess.Popen[bytes] | None = None
    who: Account | None = None
    api: Api | None = None
    try:
        # Both workers poll before the gateway starts: `serve` would otherwise start workers of its own.
        for queue in (io_queue, gpu_queue):

            async def polled(q: str = queue) -> bool:
                return await queue_has_pollers(stack.client, q, stack.settings.temporal_namespace)

            await wait_for(polled, 300, interval=0.5, what=f"a worker polling {queue}")
        with open(api_log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "therapybridge.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        api = Api(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", proc, api_log, stack)

        async def healthy() -> bool:
            with contextlib.suppress(httpx.TransportError):
                async with api.client(timeout=5) as c:
                    return (await c.get("/api/health")).status_code == 200
            assert proc is not None and proc.poll() is None, api.log_tail()
            return False

        await wait_for(healthy, 180, interval=0.5, what="the gateway healthy")
        who = await make_account(api)
        yield Ops(api, gpu, io, stack.temporal.address, gpu_queue, io_queue, who)
    finally:
        if gpu.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                gpu.proc.send_signal(signal.SIGCONT)
        if api is not None and who is not None:
            await _delete_unfinished(api, who)  # nothing of ours left waiting on queues nobody will poll
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for w in (gpu, io):
            w.kill(signal.SIGTERM)


async def _delete_unfinished(api: Api, who: Account) -> None:
    with contextlib.suppress(httpx.HTTPError):
        async with api.client(who.token) as c:
            for s in (await c.get("/api/sessions", params={"limit": 100})).json()["data"]:
                if s["status"] not in ("processed", "failed", "cancelled"):
                    await c.delete(f"/api/sessions/{s['id']}")


async def _upload(ops: Ops) -> str:
    r = await upload(ops.api, ops.who, AUDIO)
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


async def _health(ops: Ops) -> tuple[int, dict[str, Any]]:
    async with ops.api.client(timeout=30) as c:
        r = await c.get("/api/health")
        return r.status_code, r.json()


async def _status_message(ops: Ops, session_id: str, starts: str, timeout: float = 300) -> dict[str, Any]:
    """The first live status (SSE) whose message starts with `starts`."""
    url = f"/api/sessions/{session_id}/status/stream"
    async with (
        ops.api.client(ops.who.token, timeout=None) as c,
        asyncio.timeout(timeout),
        c.stream("GET", url) as r,
    ):
        assert r.status_code == 200
        async for ev in sse_events(r.aiter_lines()):
            if isinstance(ev.data, dict) and str(ev.data.get("message", "")).startswith(starts):
                return ev.data
            assert not (isinstance(ev.data, dict) and ev.data.get("final")), ev.data
    raise AssertionError("the stream ended")


def _log_records(ops: Ops) -> list[dict[str, Any]]:
    out = []
    for line in ops.api.log.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            rec = json.loads(line)
            if isinstance(rec, dict):
                out.append(rec)
    return out


async def _workflow_waits_on_gpu(ops: Ops, session_id: str) -> None:
    """Until the session's workflow has scheduled gpu work (it is then surely running)."""

    async def waiting() -> bool:
        with contextlib.suppress(Exception):
            desc = await ops.api.stack.client.get_workflow_handle(workflow_id(session_id)).describe()
            names = {p.activity_type.name for p in desc.raw_description.pending_activities}
            return bool(names & {"transcribe_window", "diarize"})
        return False

    await wait_for(waiting, 300, interval=0.5, what="gpu work scheduled")


async def test_a_frozen_gpu_worker_is_a_visible_stall_until_it_continues(ops: Ops) -> None:
    with ops.gpu_frozen():
        session_id = await _upload(ops)
        # The session says since when it waits, instead of a countdown.
        status = await _status_message(ops, session_id, "waiting for a transcription worker since ")
        assert status["estimated_time_remaining"] is None and status["waiting_since"]
        assert status["final"] is False

        # /api/health: 503, the stall counted (no session id: health is unauthenticated), pollers still "ok".
        async def stalled() -> dict[str, Any] | None:
            code, body = await _health(ops)
            return body if code == 503 and "transcription" in body["stalls"]["workers"] else None

        body = await wait_for(stalled, 120, interval=0.5, what="a stall in /api/health")
        assert body["task_queues"][ops.gpu_queue]["ok"] is True  # a frozen worker still looks like a poller
        report = body["stalls"]["workers"]["transcription"]
        assert report["sessions"] >= 1 and report["waiting_s"] > STALL_AFTER_S
        assert session_id not in json.dumps(body)

        # Logged once, with ids and numbers only.
        async def logged() -> list[dict[str, Any]]:
            recs = _log_records(ops)
            return [
                r for r in recs if r.get("msg") == "work waiting for a worker" and r.get("session_id") == session_id
            ]

        (rec,) = await wait_for(logged, 60, what="the stall log line")
        assert rec["worker"] == "transcription" and rec["waited_s"] > STALL_AFTER_S
    # Continued: the work is picked up, the session finishes, health is 200 again.
    doc = await wait_status(ops.api, ops.who, session_id, {"processed", "failed"}, timeout=600)
    assert doc["status"] == "processed", doc.get("error")

    async def ok_again() -> bool:
        return (await _health(ops))[0] == 200

    await wait_for(ok_again, 120, interval=0.5, what="health 200 after the worker continued")
    assert PATIENT_NAME not in ops.api.log.read_text(errors="replace")


async def test_terminated_in_temporal_then_retried(ops: Ops) -> None:
    """Terminate (as in the Temporal UI, here through the documented CLI) → `failed`, "stopped by an
    operator", and Retry runs the session again to `processed`."""
    with ops.gpu_frozen():
        session_id = await _upload(ops)
        await _workflow_waits_on_gpu(ops, session_id)
        ops.cli("workflow", "terminate", "--workflow-id", workflow_id(session_id), "--reason", "operator test")
        doc = await wait_status(ops.api, ops.who, session_id, {"failed", "cancelled", "processed"}, timeout=120)
        assert (doc["status"], doc["error"]) == ("failed", OPERATOR)
    async with ops.api.client(ops.who.token) as c:
        r = await c.post(f"/api/sessions/{session_id}/retry")
        assert r.status_code == 202, r.text
    doc = await wait_status(ops.api, ops.who, session_id, {"processed", "failed", "cancelled"}, timeout=600)
    assert doc["status"] == "processed", doc.get("error")


async def test_retry_right_after_terminate_does_not_wait_for_the_monitor(ops: Ops) -> None:
    """Retry itself asks Temporal before answering 409, so it works the moment the run is terminated."""
    with ops.gpu_frozen():
        session_id = await _upload(ops)
        await _workflow_waits_on_gpu(ops, session_id)
        await ops.api.stack.client.get_workflow_handle(workflow_id(session_id)).terminate(reason="operator test")
        async with ops.api.client(ops.who.token) as c:
            r = await c.post(f"/api/sessions/{session_id}/retry")
            assert r.status_code in (202, 409), r.text
            if r.status_code == 409:  # the monitor's sweep raced us and the retry's own claim
                pytest.fail(f"retry refused right after terminate: {r.text}")
        # The new run is not failed by the old, terminated one.
        await _workflow_waits_on_gpu(ops, session_id)
        time_to_settle = time.monotonic() + 3 * 1.0 + 2  # three monitor sweeps
        while time.monotonic() < time_to_settle:
            async with ops.api.client(ops.who.token) as c:
                assert (await c.get(f"/api/sessions/{session_id}")).json()["status"] not in ("failed", "cancelled")
            await asyncio.sleep(0.5)
    doc = await wait_status(ops.api, ops.who, session_id, {"processed", "failed", "cancelled"}, timeout=600)
    assert doc["status"] == "processed", doc.get("error")


async def test_operations_doc_cli_steps(ops: Ops) -> None:
    """docs/operations.md "Find a stuck session … and restart it", step by step with the CLI."""
    with ops.gpu_frozen():
        session_id = await _upload(ops)
        wid = workflow_id(session_id)
        await _workflow_waits_on_gpu(ops, session_id)
        # 1. Find it, and read its progress.
        found = ops.cli("workflow", "list", "--query", f'WorkflowId = "{wid}"')
        assert wid in found and "Running" in found
        assert wid in ops.cli("workflow", "list", "--query", 'ExecutionStatus = "Running"')
        # ... and by the stage it is in (search attributes; the list catches up within moments).
        by_stage = 'ExecutionStatus = "Running" AND SessionStage = "transcribe"'

        async def listed_in_transcription() -> bool:
            return wid in await asyncio.to_thread(ops.cli, "workflow", "list", "--query", by_stage)

        await wait_for(listed_in_transcription, 120, interval=0.5, what="the session listed by its stage")
        # Decoded through the gateway's codec endpoint, for administrators (without it: binary/encrypted).
        admin = await make_account(ops.api, role="admin", patient_name="Admin Patient")
        codec = ["--codec-endpoint", f"{ops.api.base_url}/codec", "--codec-auth", f"Bearer {admin.token}"]
        progress = ops.cli("workflow", "query", "--workflow-id", wid, "--type", "progress", "--output", "json", *codec)
        assert '"status"' in progress and session_id in progress, progress
        # 2. What it waits on.
        described = ops.cli("workflow", "describe", "--workflow-id", wid, *codec)
        assert "transcribe_window" in described or "diarize" in described
        # 3. Is a worker there? (a frozen one still is: the stall check in /api/health is what tells)
        pollers = ops.cli("task-queue", "describe", "--task-queue", ops.gpu_queue)
        assert "@" in pollers  # a poller identity, <pid>@<host>
        # 4. Reset to the first workflow task: a new run replays on the current workers. The UI offers
        # bare event numbers; the docs say the first workflow task is event 4.
        history = await ops.api.stack.client.get_workflow_handle(wid).fetch_history()
        first_task = next(e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
        assert first_task.event_id == 4
        ops.cli("workflow", "reset", "--workflow-id", wid, "--type", "FirstWorkflowTask", "--reason", "docs test")
    doc = await wait_status(ops.api, ops.who, session_id, {"processed", "failed", "cancelled"}, timeout=600)
    assert doc["status"] == "processed", doc.get("error")

    # 4. Cancel (Request Cancellation), then Retry through the API. The worker is continued first: an
    # activity held by a frozen worker cannot acknowledge a cancellation, it times out instead (and the
    # session then ends `failed`); transcribing takes far longer than the CLI call after it.
    with ops.gpu_frozen():
        session_id = await _upload(ops)
        await _workflow_waits_on_gpu(ops, session_id)
    ops.cli("workflow", "cancel", "--workflow-id", workflow_id(session_id))
    doc = await wait_status(ops.api, ops.who, session_id, {"processed", "failed", "cancelled"}, timeout=300)
    assert doc["status"] == "cancelled", doc.get("error")
    async with ops.api.client(ops.who.token) as c:
        assert (await c.post(f"/api/sessions/{session_id}/retry")).status_code == 202
    doc = await wait_status(ops.api, ops.who, session_id, {"processed", "failed", "cancelled"}, timeout=600)
    assert doc["status"] == "processed", doc.get("error")

    # Retention: run the purge schedule now.
    ops.cli("schedule", "trigger", "--schedule-id", PURGE_SCHEDULE_ID)
