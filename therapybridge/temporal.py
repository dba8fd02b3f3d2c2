"""Temporal plumbing: the client (with the encrypting data converter), starting and watching session
workflows, and the local dev server for the one-machine setup."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import socket
from pathlib import Path
from typing import Any

import temporalio.converter
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import Runtime

from therapybridge import messages as m
from therapybridge import search_attributes
from therapybridge.codec import EncryptionCodec, load_or_create_keys
from therapybridge.settings import Settings

WORKFLOW_NAME = "SessionWorkflow"
TEMPORAL_CLI_VERSION = "v1.5.1"


def workflow_id(session_id: str) -> str:
    return f"session-{session_id}"


def data_converter(settings: Settings) -> DataConverter:
    codec = EncryptionCodec(load_or_create_keys(settings.codec_keys, settings.data_dir / "codec.key"))
    # Failure messages and stack traces go into encoded attributes, so the codec encrypts them too.
    return dataclasses.replace(
        temporalio.converter.default(),
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(settings: Settings, timeout: float | None = None, runtime: Runtime | None = None) -> Client:
    """runtime: the SDK runtime (its telemetry: workers pass workers.metrics_runtime); None, the default."""
    coro = Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        runtime=runtime,
    )
    return await (asyncio.wait_for(coro, timeout) if timeout else coro)


def workflow_config(settings: Settings) -> m.WorkflowConfig:
    """Everything the workflow needs from the settings, passed as an argument (it reads no env)."""
    return m.WorkflowConfig(
        io_task_queue=settings.io_task_queue,
        gpu_task_queue=settings.gpu_task_queue,
        retry_initial_s=settings.retry_initial_s,
        retry_backoff=settings.retry_backoff,
        retry_max_interval_s=settings.retry_max_interval_s,
        retry_max_attempts=settings.retry_max_attempts,
        heartbeat_timeout_s=settings.heartbeat_timeout_s,
    )


async def start_session(client: Client, settings: Settings, inp: m.SessionInput) -> WorkflowHandle[Any, Any]:
    """Start the session's workflow. A second start while one runs raises WorkflowAlreadyStartedError;
    a failed or cancelled session may run again (retry)."""
    return await client.start_workflow(
        WORKFLOW_NAME,
        args=[inp, workflow_config(settings)],
        id=workflow_id(inp.session_id),
        task_queue=settings.io_task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )


async def query_progress(client: Client, session_id: str) -> m.Progress:
    """The workflow's `progress` query, plus the running activity's heartbeat percent for movement
    inside a long stage (heartbeat details are {"progress": 0..1}). Whether the session waits for a
    worker is the gateway's monitor's to say (api/monitor.py, domain/stalls.py)."""
    handle = client.get_workflow_handle(workflow_id(session_id))
    p: m.Progress = await handle.query("progress", result_type=m.Progress)
    if p.status in ("transcribing", "diarizing", "preprocessing"):
        with contextlib.suppress(Exception):
            p = await _add_heartbeat_progress(client, handle, p)
    return p


async def _add_heartbeat_progress(client: Client, handle: WorkflowHandle[Any, Any], p: m.Progress) -> m.Progress:
    desc = await handle.describe()
    pending = desc.raw_description.pending_activities
    if not pending:
        return p
    fractions: dict[str, list[float]] = {}
    for act in pending:
        if not act.heartbeat_details.payloads:
            continue
        details = await client.data_converter.decode(act.heartbeat_details.payloads, [dict])
        if details and isinstance(details[0], dict) and "progress" in details[0]:
            fractions.setdefault(act.activity_type.name, []).append(float(details[0]["progress"]))
    if p.status == "preprocessing" and m.PREPROCESS in fractions:
        band = m.PARALLEL_START - m.PREPROCESS_START
        p.progress = max(p.progress, m.PREPROCESS_START + int(band * max(fractions[m.PREPROCESS])))
    elif p.windows_total and m.TRANSCRIBE_WINDOW in fractions:
        # Running windows add their partial share of the transcription part of the parallel band; it
        # stays below the band's end, which only the workflow reaches when every window is done.
        extra = sum(fractions[m.TRANSCRIBE_WINDOW]) / p.windows_total
        band = m.PARALLEL_END - m.PARALLEL_START
        p.progress = max(p.progress, min(m.PARALLEL_END - 1, p.progress + int(band * m.TRANSCRIBE_SHARE * extra)))
        # The same share in audio seconds (windows are about equal: an average one), for the rate.
        partial = p.audio_seconds_total * extra
        p.audio_seconds_done = min(p.audio_seconds_total, p.audio_seconds_done + partial)
    return p


# --------------------------------------------------------------------------- dev server


def find_temporal_cli(settings: Settings) -> str | None:
    """The CLI on PATH, else where `go install` puts it."""
    found = shutil.which(settings.temporal_cli)
    if found:
        return found
    candidates = [Path(os.environ.get("GOBIN", "")) / "temporal"] if os.environ.get("GOBIN") else []
    candidates.append(Path(os.environ.get("GOPATH", str(Path.home() / "go"))) / "bin" / "temporal")
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    return None


def is_listening(address: str, timeout: float = 0.5) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "localhost", int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def is_local(address: str) -> bool:
    host = address.rpartition(":")[0]
    return host in ("localhost", "127.0.0.1", "::1", "[::1]", "")


def dev_server_command(settings: Settings, cli: str, headless: bool = False) -> list[str]:
    host, _, port = settings.temporal_address.rpartition(":")
    cmd = [
        cli,
        "server",
        "start-dev",
        "--ip",
        host if host not in ("localhost", "") else "127.0.0.1",
        "--port",
        port,
        "--namespace",
        settings.temporal_namespace,
        "--db-filename",
        str((settings.data_dir / "temporal.db").resolve()),
        "--log-level",
        "error",
    ]
    cmd += ["--headless"] if headless else ["--ui-port", str(settings.temporal_ui_port)]
    return cmd + search_attributes.dev_server_args()  # registered on every start: idempotent


async def wait_for_server(settings: Settings, timeout: float = 90.0) -> Client:
    deadline = asyncio.get_running_loop().time() + timeout
    last: Exception | None = None
    while asyncio.get_running_loop().time() < deadline:
        if is_listening(settings.temporal_address):
            try:
                client = await connect(settings, timeout=5)
                await client.service_client.check_health()
                return client
            except Exception as exc:  # not ready yet
                last = exc
        await asyncio.sleep(0.5)
    raise TimeoutError(f"Temporal did not answer at {settings.temporal_address} within {timeout:.0f}s: {last}")


PURGE_SCHEDULE_ID = "therapybridge-purge-artifacts"


async def ensure_purge_schedule(client: Client, settings: Settings) -> None:
    """An hourly Temporal Schedule that purges artifacts of failed sessions (idempotent)."""
    from datetime import timedelta

    from temporalio.client import (
        Schedule,
        ScheduleActionStartWorkflow,
        ScheduleAlreadyRunningError,
        ScheduleIntervalSpec,
        ScheduleSpec,
    )

    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            "PurgeWorkflow", settings.artifact_ttl_hours, id="purge-artifacts", task_queue=settings.io_task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]),
    )
    with contextlib.suppress(ScheduleAlreadyRunningError):
        await client.create_schedule(PURGE_SCHEDULE_ID, schedule)


async def ensure_search_attributes(client: Client, namespace: str, timeout: float = 120.0) -> None:
    """Register the session search attributes (search_attributes.KEYS) if the namespace lacks them, and
    wait until it lists them. The setup step registers them too (docker/temporal-setup.sh); this check at
    the io worker's start means an upgrade that skipped it cannot leave every session's workflow task
    failing on an unknown attribute. Idempotent: nothing is sent when they are all there."""
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
    from temporalio.service import RPCError, RPCStatusCode

    wanted = {key.name: int(key.indexed_value_type) for key in search_attributes.KEYS}

    async def missing() -> dict[str, int]:
        listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
        known = dict(listed.custom_attributes)
        clash = {n for n, t in wanted.items() if n in known and known[n] != t}
        if clash:
            raise RuntimeError(f"search attributes {sorted(clash)} exist with another type; see docs/operations.md")
        return {n: t for n, t in wanted.items() if n not in known}

    todo = await missing()
    if not todo:
        return
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=todo)  # type: ignore[arg-type]
        )
    except RPCError as err:  # ALREADY_EXISTS: another worker added them at this moment
        if err.status != RPCStatusCode.ALREADY_EXISTS:
            raise RuntimeError(
                f"cannot register search attributes {sorted(todo)} ({err.message}); run "
                "`docker/temporal-setup.sh namespace` with an operator's rights (docs/operations.md)"
            ) from err
    deadline = asyncio.get_running_loop().time() + timeout
    while todo := await missing():  # the namespace's cache of attributes refreshes on its own clock
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"search attributes {sorted(todo)} not registered within {timeout:.0f}s")
        await asyncio.sleep(0.5)
