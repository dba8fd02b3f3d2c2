"""The production topology under load and failures (issue 15): a real Temporal server on PostgreSQL,
the gateway, one io worker and two gpu workers (tests/support/cluster.py). Every test uploads through
the API and ends with the same audit: one processed document per upload, one workflow run and one
save each, no orphan blobs, every history payload encrypted.

Run just these with `pytest -m cluster`. Waits are on events (API status, worker logs, the server's
own answers) with deadlines of minutes; nothing sleeps for a fixed time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.worker import Replayer

from tests.deploy.cluster.checks import (
    DEADLINE_S,
    GPU_STAGES,
    audit,
    gpu_activity_counts,
    statuses,
    upload_all,
    wait_status,
)
from tests.deploy.cluster.io_worker_patched import PATCH, PatchedSessionWorkflow
from tests.support.cluster import Cluster, restart_postgres
from tests.support.faults import wait_for
from tests.support.history import PATCH_MARKER, activity_runs, is_patch_marker
from therapybridge.document import FINAL_STATUSES
from therapybridge.temporal import workflow_id

pytestmark = pytest.mark.cluster


# --------------------------------------------------------------------------- tests


async def test_concurrent_uploads_spread_over_both_gpu_workers(
    cluster: Cluster, cluster_audio: dict[str, Path], account: tuple[str, str, str]
) -> None:
    token, patient, therapist = account
    files = [cluster_audio[f"short-{i}"] for i in (1, 2, 3, 4, 6, 8)]
    ids = await upload_all(cluster, token, patient, files)
    await audit(cluster, token, therapist, ids)
    counts = gpu_activity_counts(cluster, ids)
    done = [r for sid in ids for r in await activity_runs(cluster.client, sid) if r.name in GPU_STAGES]
    print(f"\ngpu activities per worker: {counts}; in the histories: {len(done)}")
    assert all(r.outcome == "completed" for r in done)
    assert counts["gpu-a"] >= 1 and counts["gpu-b"] >= 1, counts
    assert sum(counts.values()) >= len(done)


def scrape(url: str, token: str | None = None) -> dict[str, list[tuple[dict[str, str], float]]]:
    """A Prometheus endpoint's samples by name."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = httpx.get(url, headers=headers, timeout=30)
    assert r.status_code == 200, (url, r.status_code)
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


async def test_every_process_exports_metrics(
    cluster: Cluster, cluster_audio: dict[str, Path], account: tuple[str, str, str]
) -> None:
    """After a session: the gpu workers' schedule-to-start latency and activity counts on the gpu queue,
    the io worker's workflow completions, the gateway's request/session/breaker figures, the server's."""
    token, patient, therapist = account
    ids = await upload_all(cluster, token, patient, [cluster_audio["short-2"]])
    await audit(cluster, token, therapist, ids)
    gpu_queue, io_queue = "therapybridge-gpu", "therapybridge-io"

    def on(samples: list[tuple[dict[str, str], float]], queue: str) -> float:
        return sum(v for labels, v in samples if labels.get("task_queue") == queue)

    # The SDK's metrics of each worker (WORKER_METRICS_BIND): the gpu work was done by one of the two.
    gpu = [await asyncio.to_thread(scrape, f"http://127.0.0.1:{cluster.metrics_ports[n]}/metrics")
           for n in ("gpu-a", "gpu-b")]  # fmt: skip
    assert sum(on(g.get("temporal_activity_schedule_to_start_latency_count", []), gpu_queue) for g in gpu) >= 1
    assert sum(on(g.get("temporal_activity_execution_latency_count", []), gpu_queue) for g in gpu) >= 1
    io = await asyncio.to_thread(scrape, f"http://127.0.0.1:{cluster.metrics_ports['io']}/metrics")
    assert on(io.get("temporal_workflow_completed_total", []), io_queue) >= 1

    # The gateway: route templates as labels, sessions by status, both breakers closed.
    api = await asyncio.to_thread(scrape, f"{cluster.gateway.base_url}/metrics", cluster.env["METRICS_TOKEN"])
    routes = {labels["route"] for labels, _ in api["therapybridge_http_requests_total"]}
    assert "/api/sessions/upload" in routes and "/api/sessions/{session_id}" in routes
    assert not any(sid in route for route in routes for sid in ids)
    processed = [v for labels, v in api["therapybridge_sessions"] if labels["status"] == "processed"]
    assert processed and processed[0] >= 1
    closed = {
        labels["service"] for labels, v in api["therapybridge_breaker_state"] if labels["state"] == "closed" and v == 1
    }
    assert closed == {"transcription", "diarization"}

    # The Temporal server's own endpoint (docker/temporal/therapybridge.yaml, PROMETHEUS_PORT).
    server = await asyncio.to_thread(scrape, f"http://{cluster.temporal.address.split(':')[0]}:"
                                             f"{cluster.temporal.ports['PROMETHEUS_PORT']}/metrics")  # fmt: skip
    assert {"service_requests_total", "persistence_requests_total"} <= set(server), sorted(server)[:20]


def _attributes_kind(event: dict[str, Any]) -> str:
    """Which `...EventAttributes` an event of the UI's JSON carries, normalised (camel or snake case)."""
    return next(
        (k.replace("_", "").lower() for k in event if k.replace("_", "").lower().endswith("eventattributes")), ""
    )


def _ui_bookkeeping(event: dict[str, Any]) -> bool:
    kind = _attributes_kind(event)
    if kind.startswith("markerrecorded"):
        attrs = next(v for k, v in event.items() if k.replace("_", "").lower() == kind)
        return (attrs.get("markerName") or attrs.get("marker_name")) == PATCH_MARKER
    return kind.startswith("upsertworkflowsearchattributes")


async def test_the_web_ui_shows_the_cluster_with_the_codec(
    cluster: Cluster, cluster_audio: dict[str, Path], account: tuple[str, str, str]
) -> None:
    """The Temporal UI (ui-server, as compose's temporal-ui runs it) reads this cluster: a session's
    workflow through the UI's own API, its payloads still encrypted (the browser decodes them through the
    gateway's /codec, which the UI's settings name, with the administrator's cookie)."""
    assert cluster.ui is not None
    token, patient, therapist = account
    ids = await upload_all(cluster, token, patient, [cluster_audio["short-3"]])
    await audit(cluster, token, therapist, ids)
    async with httpx.AsyncClient(base_url=cluster.ui.base_url, timeout=60) as ui:
        settings = (await ui.get("/api/v1/settings")).json()
        assert settings["Codec"]["Endpoint"] == f"{cluster.gateway.base_url}/codec"
        assert settings["Codec"]["IncludeCredentials"] is True
        r = await ui.get(f"/api/v1/namespaces/default/workflows/{workflow_id(ids[0])}/history")
    assert r.status_code == 200, r.text[:500]
    # Payload metadata as the UI's JSON carries it: base64 of "binary/encrypted"; never plain JSON,
    # except in what the server reads itself: patch markers and search attributes (stage/status words).
    events = r.json()["history"]["events"]
    sealed = json.dumps([e for e in events if not _ui_bookkeeping(e)])
    assert "YmluYXJ5L2VuY3J5cHRlZA==" in sealed and "anNvbi9wbGFpbg==" not in sealed  # json/plain
    assert any("upsertworkflowsearchattributes" in _attributes_kind(e) for e in events)  # SessionStage, ...
    # The codec endpoint the UI names answers the UI's origin (CORS preflight).
    async with httpx.AsyncClient(base_url=cluster.gateway.base_url, timeout=30) as c:
        pre = await c.options(
            "/codec/decode",
            headers={"Origin": cluster.ui.origin, "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "content-type,x-namespace"},
        )  # fmt: skip
    assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == cluster.ui.origin


async def test_temporal_server_sigkill_mid_transcription(
    cluster: Cluster, cluster_audio: dict[str, Path], account: tuple[str, str, str]
) -> None:
    token, patient, therapist = account
    ids = await upload_all(cluster, token, patient, [cluster_audio["long-1"], cluster_audio["long-2"]])
    await wait_status(cluster, token, ids, {"transcribing", "diarizing"})
    cluster.temporal.kill(signal.SIGKILL)
    assert not cluster.temporal.alive()
    cluster.temporal.start()
    await cluster.temporal.wait_ready()
    await audit(cluster, token, therapist, ids)


async def test_a_gpu_worker_sigkilled_the_other_finishes(
    cluster: Cluster, cluster_audio: dict[str, Path], account: tuple[str, str, str]
) -> None:
    token, patient, therapist = account
    ids = await upload_all(cluster, token, patient, [cluster_audio[f"long-{i}"] for i in (1, 2, 3)])
    victim = f"{cluster.worker_pid('gpu-a')}@"

    async def victim_busy() -> tuple[str, int] | None:
        """(session, scheduled event id) of an activity gpu-a has started and not finished."""
        for sid in ids:
            with contextlib.suppress(Exception):  # before the workflow exists on the server
                desc = await cluster.client.get_workflow_handle(workflow_id(sid)).describe()
                for a in desc.raw_description.pending_activities:
                    if a.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED and (
                        a.last_worker_identity.startswith(victim)
                    ):
                        return sid, a.activity_id
        return None

    busy = await wait_for(victim_busy, DEADLINE_S, interval=0.2, what="gpu-a running an activity")
    before = gpu_activity_counts(cluster, ids)
    cluster.kill_worker("gpu-a")
    try:
        # gpu-a stays dead until every session has finished: gpu-b did all the work left, including
        # what gpu-a held (retried after the heartbeat timeout, unless it ended in the instant between
        # the check and the kill).
        await audit(cluster, token, therapist, ids)
        sid, activity_id = busy
        attempts = [(r.name, r.attempt) for r in await activity_runs(cluster.client, sid) if r.name in GPU_STAGES]
        after = gpu_activity_counts(cluster, ids)
        print(f"\ngpu activities before the kill {before}, at the end {after}; gpu-a held activity "
              f"{activity_id} of a session whose gpu attempts were {attempts}")  # fmt: skip
        assert after["gpu-a"] == before["gpu-a"]
    finally:
        cluster.start_worker("gpu-a")
        await cluster.wait_worker("gpu-a", count=2)


async def test_postgres_restarted_mid_run(
    cluster: Cluster, cluster_audio: dict[str, Path], account: tuple[str, str, str]
) -> None:
    """Temporal's database (and the app's: one PostgreSQL, as in docker-compose.yml) restarts."""
    token, patient, therapist = account
    ids = await upload_all(cluster, token, patient, [cluster_audio["long-3"], cluster_audio["long-4"]])
    await wait_status(cluster, token, ids, {"transcribing", "diarizing"})
    await asyncio.to_thread(restart_postgres, cluster.postgres)
    await cluster.temporal.wait_ready()
    await audit(cluster, token, therapist, ids)


async def test_rolling_restart_of_the_io_worker_with_a_patched_workflow(
    cluster: Cluster, cluster_audio: dict[str, Path], account: tuple[str, str, str]
) -> None:
    """A release whose workflow gained a step (tests/deploy/cluster/io_worker_patched.py) replaces the io worker
    while sessions run: its worker joins the queue, then the old one stops (SIGTERM). The sessions
    replay their history on the new code, take the new step from there on, and finish.

    Last in this module: the io worker stays on the new release. The new worker starts before the
    uploads and waits at a gate until the handover; for the handover itself (seconds) the gpu workers
    are paused (SIGSTOP), so no session can end before the old worker is gone."""
    token, patient, therapist = account
    gate = cluster.workdir / "release-gate"
    cluster.start_worker("io-v2", module="tests.deploy.cluster.io_worker_patched", ROLLING_RESTART_GATE=str(gate))
    await cluster.wait_message("io-v2", "release ready")
    ids = await upload_all(cluster, token, patient, [cluster_audio["long-1"], cluster_audio["long-2"]])
    await wait_status(cluster, token, ids, {"transcribing", "diarizing"})
    gpu_pids = [cluster.worker_pid(n) for n in ("gpu-a", "gpu-b")]
    old_pid = cluster.worker_pid("io")
    paused = time.monotonic()
    try:
        for pid in gpu_pids:
            os.kill(pid, signal.SIGSTOP)
        assert not set((await statuses(cluster, token, ids)).values()) & FINAL_STATUSES
        gate.touch()
        await cluster.wait_worker("io-v2")
        old = cluster.workers["io"]
        old.kill(signal.SIGTERM)  # graceful; SIGKILL only if it has not exited within 20 s
        assert old.proc is not None and old.proc.poll() is not None
        assert any(r.get("msg") == "worker stopping" for r in cluster.records("io"))
    finally:
        for pid in gpu_pids:
            os.kill(pid, signal.SIGCONT)
    # Under HEARTBEAT_TIMEOUT_S (20 s) nothing the gpu workers hold times out; longer costs retries.
    print(f"\nhandover with the gpu workers paused: {time.monotonic() - paused:.1f} s")
    await audit(cluster, token, therapist, ids)

    replayer = Replayer(workflows=[PatchedSessionWorkflow], data_converter=cluster.client.data_converter)
    for sid in ids:
        history = await cluster.client.get_workflow_handle(workflow_id(sid)).fetch_history()
        # Begun on the old worker, finished on the new one...
        done_by = [
            e.workflow_task_completed_event_attributes.identity.split("@")[0]
            for e in history.events
            if e.HasField("workflow_task_completed_event_attributes")
        ]
        assert done_by[0] == str(old_pid) and done_by[-1] == str(cluster.worker_pid("io-v2")), (sid, done_by)
        # ...the new step ran once (its patch marker and its timer; SessionWorkflow's own patches aside)...
        markers = [e for e in history.events if is_patch_marker(e) and PATCH.encode() in e.SerializeToString()]
        assert len(markers) == 1, sid
        assert sum(e.HasField("timer_started_event_attributes") for e in history.events) == 1, sid
        # ...and the whole history, begun on the old code, replays on the new.
        await replayer.replay_workflow(history)
