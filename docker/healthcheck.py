#!/usr/bin/env python
"""Container health checks for the TherapyBridge images (installed as `tb-healthcheck`).

    tb-healthcheck http URL          healthy when URL answers 2xx within the timeout
    tb-healthcheck api URL           healthy when the gateway's /api/health says its own database and
                                     Temporal connection are up (workers are not its health: they
                                     have their own checks, and a proxy must keep routing to the web
                                     app while a gpu host is down)
    tb-healthcheck worker QUEUE      healthy when a worker of THIS container polls QUEUE on Temporal

The worker check asks Temporal who polls the task queue and looks for this container's own worker:
the Python SDK names a worker `<pid>@<hostname>`, and a container's hostname is its own. A worker
that died, hangs before polling or lost its Temporal connection drops out of the list, so the
container turns unhealthy (and `restart` policies or an orchestrator take it from there).
Exit status 0 = healthy, 1 = unhealthy (the Docker HEALTHCHECK contract).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sys
import urllib.error
import urllib.request
from typing import NoReturn


def check_http(url: str, timeout: float) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return 200 <= resp.status < 300, f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return False, f"unreachable: {exc}"


def check_api(url: str, timeout: float) -> tuple[bool, str]:
    """GET /api/health answers 200 when everything is up and 503 with the same report otherwise."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
    except (urllib.error.URLError, OSError) as exc:
        return False, f"unreachable: {exc}"
    try:
        report = json.loads(body)
        down = [part for part in ("database", "temporal") if not report[part]["ok"]]
    except (ValueError, KeyError, TypeError):
        return False, "not a health report"
    if down:
        return False, "down: " + ", ".join(down)
    return True, "database and Temporal up"


async def queue_pollers(address: str, namespace: str, queue: str, timeout: float) -> list[str]:
    """Identities of the workers polling `queue` (workflow and activity pollers)."""
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
    from temporalio.client import Client

    client = await asyncio.wait_for(Client.connect(address, namespace=namespace), timeout)
    identities: list[str] = []
    for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        req = DescribeTaskQueueRequest(namespace=namespace, task_queue=TaskQueue(name=queue), task_queue_type=kind)
        resp = await asyncio.wait_for(client.workflow_service.describe_task_queue(req), timeout)
        identities += [p.identity for p in resp.pollers]
    return identities


def check_worker(queue: str, address: str, namespace: str, hostname: str, timeout: float) -> tuple[bool, str]:
    try:
        identities = asyncio.run(queue_pollers(address, namespace, queue, timeout))
    except Exception as exc:  # Temporal unreachable, timeout, bad address
        return False, f"cannot ask Temporal at {address}: {type(exc).__name__}: {exc}"
    mine = [i for i in identities if i.endswith(f"@{hostname}")]
    if mine:
        return True, f"polling {queue} as {mine[0]}"
    return False, f"no worker of host {hostname} polls {queue} ({len(set(identities))} other pollers)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tb-healthcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=5.0)
    sub = parser.add_subparsers(dest="kind", required=True)
    http = sub.add_parser("http", help="an HTTP endpoint answers 2xx")
    http.add_argument("url")
    api = sub.add_parser("api", help="the gateway's database and Temporal connection are up")
    api.add_argument("url")
    worker = sub.add_parser("worker", help="this host's worker polls a Temporal task queue")
    worker.add_argument("queue")
    worker.add_argument("--address", default=os.environ.get("TEMPORAL_ADDRESS", "localhost:7233"))
    worker.add_argument("--namespace", default=os.environ.get("TEMPORAL_NAMESPACE", "default"))
    worker.add_argument("--hostname", default=socket.gethostname())
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    if args.kind == "http":
        ok, detail = check_http(args.url, args.timeout)
    elif args.kind == "api":
        ok, detail = check_api(args.url, args.timeout)
    else:
        ok, detail = check_worker(args.queue, args.address, args.namespace, args.hostname, args.timeout)
    print(("healthy: " if ok else "unhealthy: ") + detail)
    return 0 if ok else 1


def exit_now(code: int) -> NoReturn:
    """Exit without interpreter finalization.

    The Temporal client runs on the SDK's Rust (Tokio) runtime, whose threads are never joined: the
    SDK has no way to shut them down (temporalio/sdk-python#300). A Tokio thread that completes a
    call hands the result to asyncio under the GIL and releases its thread state a moment later; if
    the main thread has meanwhile returned and CPython is finalizing, that release aborts the process
    ("Fatal Python error: PyGILState_Release: thread state ... must be current", SIGABRT) or it
    segfaults, after the check itself succeeded: looped under CPU load, 3 in 100 healthy checks and
    7 in 100 against an unreachable server ended so. os._exit ends the process without finalizing,
    so there is no race left to lose; output is flushed first because os._exit skips that too.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: the exit status is what counts
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())  # argparse's usage errors still exit normally: no client exists yet
