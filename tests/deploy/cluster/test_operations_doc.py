"""docs/operations.md "Find a stuck session … and restart it", followed on the production topology (issue 15
item 3): the Temporal CLI against the real server on PostgreSQL, the session uploaded and retried
through the gateway. A session is made stuck by freezing (SIGSTOP) the gpu workers, so its windows
wait; it is found with the doc's commands as written, then restarted by reset, or by terminate and
Retry. Each test ends with the cluster audit: one processed document, the runs and saves expected, no
orphan blobs, every history payload encrypted. Every process stopped here is continued however the
test ends."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import httpx
import pytest
from temporalio.api.enums.v1 import EventType

from tests.deploy.cluster.checks import DEADLINE_S, GPU_STAGES, audit, statuses, upload_all
from tests.support.cluster import Cluster
from tests.support.faults import wait_for
from tests.support.harness import REPO, temporal_cli
from tests.support.history import activity_runs
from therapybridge.temporal import workflow_id

pytestmark = pytest.mark.cluster
OPERATOR = "processing was stopped by an operator"
GPU_QUEUE = "therapybridge-gpu"


class Paused:
    """SIGSTOP / SIGCONT worker processes; whatever is still stopped is continued on exit."""

    def __init__(self) -> None:
        self.stopped: set[int] = set()

    def stop(self, pids: Iterable[int]) -> None:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
            self.stopped.add(pid)

    def cont(self, pids: Iterable[int]) -> None:
        for pid in list(pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
            self.stopped.discard(pid)

    def __enter__(self) -> Paused:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.cont(self.stopped)


def live_pids(cluster: Cluster, kind: str) -> list[int]:
    """The running workers of a kind (io, gpu): the earlier tests restart and replace some."""
    return [
        w.proc.pid
        for name, w in cluster.workers.items()
        if name.startswith(kind) and w.proc is not None and w.proc.poll() is None
    ]


@pytest.fixture(scope="module")
async def admin_token(cluster: Cluster) -> str:
    """An administrator's access token: the codec endpoint the CLI decodes payloads with is for admins."""
    email, password = f"admin-{uuid.uuid4().hex[:8]}@example.com", f"pw-{uuid.uuid4().hex}"
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "therapybridge.cli", "users", "create", "--email", email, "--password", password,
         "--role", "admin"],
        env=cluster.gateway.env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    async with httpx.AsyncClient(base_url=cluster.gateway.base_url, timeout=30) as c:
        r = await c.post("/api/auth/token", data={"username": email, "password": password})
        r.raise_for_status()
        return str(r.json()["access_token"])


async def cli(cluster: Cluster, *args: str) -> str:
    """A `temporal` command as docs/operations.md writes it, with --address = TEMPORAL_ADDRESS."""
    done = await asyncio.to_thread(
        subprocess.run,
        [temporal_cli(), *args, "--address", cluster.temporal.address],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"temporal {' '.join(args)}: {done.stderr[-800:]}"
    return done.stdout


async def waits_on_gpu(cluster: Cluster, session_id: str) -> None:
    """Until the session's workflow has scheduled gpu work (a window or the diarization)."""

    async def waiting() -> bool:
        with contextlib.suppress(Exception):  # before the workflow exists on the server
            desc = await cluster.client.get_workflow_handle(workflow_id(session_id)).describe()
            return bool({p.activity_type.name for p in desc.raw_description.pending_activities} & GPU_STAGES)
        return False

    await wait_for(waiting, DEADLINE_S, interval=0.5, what="gpu work scheduled")


async def find_it(cluster: Cluster, session_id: str, frozen: list[int], admin_token: str) -> None:
    """Steps 1-3 of the doc, with its commands: find the workflow, its progress (decoded through the
    gateway's codec endpoint), what it waits on, and whether a worker polls (a frozen one still does:
    /api/health's stall report is what tells)."""
    wid = workflow_id(session_id)
    codec = ["--codec-endpoint", f"{cluster.gateway.base_url}/codec", "--codec-auth", f"Bearer {admin_token}"]
    found = await cli(cluster, "workflow", "list", "--query", f'WorkflowId = "{wid}"')
    assert wid in found and "Running" in found, found
    assert wid in await cli(cluster, "workflow", "list", "--query", 'ExecutionStatus = "Running"')
    progress = await cli(
        cluster, "workflow", "query", "--workflow-id", wid, "--type", "progress", "--output", "json", *codec
    )
    assert '"status"' in progress and session_id in progress, progress  # decoded, not binary/encrypted
    described = await cli(cluster, "workflow", "describe", "--workflow-id", wid, *codec)
    assert "transcribe_window" in described or "diarize" in described, described
    pollers = await cli(cluster, "task-queue", "describe", "--task-queue", GPU_QUEUE)
    assert all(f"{pid}@" in pollers for pid in frozen), pollers


async def test_a_stuck_session_found_with_the_cli_then_reset(
    cluster: Cluster, cluster_audio: dict[str, Path], account: tuple[str, str, str], admin_token: str
) -> None:
    """Found as the doc says; the gpu workers back; `temporal workflow reset --type FirstWorkflowTask`:
    the reset run replays on the current workers and saves once, the first run ends terminated, unsaved.

    The io worker is paused from just before the gpu workers continue until the reset is in: the old run
    cannot finish first (it needs a workflow task to), however fast the machine, while the gpu workers
    complete a window of it, whose checkpoint the reset run then finds."""
    token, patient, therapist = account
    gpu, io = live_pids(cluster, "gpu"), live_pids(cluster, "io")
    assert len(gpu) == 2 and len(io) == 1, cluster.workers
    with Paused() as paused:
        paused.stop(gpu)
        (sid,) = await upload_all(cluster, token, patient, [cluster_audio["long-1"]])
        wid = workflow_id(sid)
        await waits_on_gpu(cluster, sid)
        await find_it(cluster, sid, gpu, admin_token)
        # The UI offers event numbers: the doc says the first workflow task is event 4.
        history = await cluster.client.get_workflow_handle(wid).fetch_history()
        first = next(e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
        assert first.event_id == 4

        paused.stop(io)
        paused.cont(gpu)

        async def a_window_done() -> bool:
            runs = await activity_runs(cluster.client, sid)
            return any(r.name == "transcribe_window" and r.outcome == "completed" for r in runs)

        await wait_for(a_window_done, DEADLINE_S, interval=0.5, what="a window done by the continued workers")
        await cli(cluster, "workflow", "reset", "--workflow-id", wid, "--type", "FirstWorkflowTask",
                  "--reason", "operations doc test")  # fmt: skip
    await audit(cluster, token, therapist, [sid], runs=2)


async def test_a_stuck_session_terminated_then_retried_through_the_api(
    cluster: Cluster, cluster_audio: dict[str, Path], account: tuple[str, str, str], admin_token: str
) -> None:
    """Found as the doc says; `temporal workflow terminate`: within STALL_CHECK_S the gateway records
    `failed`, "stopped by an operator"; the workers back, Retry through the API runs it to the end once."""
    token, patient, therapist = account
    gpu = live_pids(cluster, "gpu")
    with Paused() as paused:
        paused.stop(gpu)
        (sid,) = await upload_all(cluster, token, patient, [cluster_audio["long-2"]])
        await waits_on_gpu(cluster, sid)
        await find_it(cluster, sid, gpu, admin_token)
        wid = workflow_id(sid)
        await cli(cluster, "workflow", "terminate", "--workflow-id", wid, "--reason", "operations doc test")

        async def failed() -> bool:
            return (await statuses(cluster, token, [sid]))[sid] == "failed"

        await wait_for(failed, 120, interval=0.5, what="the session failed")
    async with httpx.AsyncClient(
        base_url=cluster.gateway.base_url, timeout=60, headers={"Authorization": f"Bearer {token}"}
    ) as c:
        doc = (await c.get(f"/api/sessions/{sid}")).json()
        assert (doc["status"], doc["error"]) == ("failed", OPERATOR)
        r = await c.post(f"/api/sessions/{sid}/retry")
        assert r.status_code == 202, r.text
    await audit(cluster, token, therapist, [sid], runs=2)
