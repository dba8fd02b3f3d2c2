"""The embedded one-machine stack the commands need: a Temporal dev server if nothing answers, the
database schema, and workers for any task queue nobody polls."""

from __future__ import annotations

import sys

from temporalio.client import Client

from therapybridge import db
from therapybridge.supervisor import Supervisor, queue_has_pollers
from therapybridge.temporal import connect


async def start_local_stack(sup: Supervisor) -> Client:
    """The embedded default on one machine: a dev server if nothing answers, the schema, and workers
    for any task queue nobody polls. Returns a connected client."""
    settings = sup.settings
    started = await sup.start_server_if_needed()
    if started:
        print(
            f"Started a local Temporal dev server at {settings.temporal_address} "
            f"(UI: http://localhost:{settings.temporal_ui_port})",
            file=sys.stderr,
        )
    client = await connect(settings)
    await db.init_db()  # once, before the workers and the gateway race to it
    await _ensure_workers(sup, client, started)
    return client


async def _ensure_workers(sup: Supervisor, client: Client, started_server: bool) -> None:
    s = sup.settings
    need_io = started_server or not await queue_has_pollers(client, s.io_task_queue, s.temporal_namespace)
    need_gpu = started_server or not await queue_has_pollers(client, s.gpu_task_queue, s.temporal_namespace)
    if need_io:
        sup.add("worker_io", [sys.executable, "-m", "therapybridge.worker_io"])
    if need_gpu:
        sup.add("worker_gpu", [sys.executable, "-m", "therapybridge.worker_gpu"])
