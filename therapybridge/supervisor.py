"""The one-machine setup: the Temporal dev server and both workers as child processes.

`therapybridge process` and `therapybridge serve` use it when nothing answers at TEMPORAL_ADDRESS.
Children that die are restarted with backoff (in production the container runtime does this).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from therapybridge.settings import Settings
from therapybridge.temporal import dev_server_command, find_temporal_cli, is_listening, is_local, wait_for_server

log = logging.getLogger("therapybridge.supervisor")


@dataclass
class Child:
    name: str
    cmd: list[str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    backoff_s: float = 1.0
    started_at: float = 0.0

    def start(self, env: dict[str, str]) -> None:
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(
                self.cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class Supervisor:
    settings: Settings
    children: list[Child] = field(default_factory=list)
    _watch: asyncio.Task[None] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)  # settings for the children only (benchmarks)

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["THERAPYBRIDGE_DATA_DIR"] = str(self.settings.data_dir.resolve())
        env["TEMPORAL_ADDRESS"] = self.settings.temporal_address
        env.setdefault("PYTHONUNBUFFERED", "1")
        # One metrics port per worker process: the io and gpu child would both bind it (the second then
        # fails to start), so the one-machine setup runs its workers without SDK metrics.
        env.pop("WORKER_METRICS_BIND", None)
        return env | self.extra_env

    def add(self, name: str, cmd: list[str]) -> Child:
        logs = self.settings.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        child = Child(name, cmd, logs / f"{name}.log")
        self.children.append(child)
        child.start(self.env)
        log.info("child started", extra={"child": name, "pid": child.proc.pid if child.proc else None})
        return child

    async def start_server_if_needed(self, headless: bool = False) -> bool:
        """Start the dev server when nothing answers at a local address. True if we started it."""
        if is_listening(self.settings.temporal_address):
            return False
        if not is_local(self.settings.temporal_address):
            raise RuntimeError(f"no Temporal server answers at {self.settings.temporal_address}")
        cli = find_temporal_cli(self.settings)
        if cli is None:
            raise RuntimeError("the Temporal CLI is not installed: run `make setup`")
        self.add("temporal", dev_server_command(self.settings, cli, headless))
        await wait_for_server(self.settings)
        return True

    def start_workers(self, gpu_workers: int = 1) -> None:
        self.add("worker_io", [sys.executable, "-m", "therapybridge.worker_io"])
        for i in range(gpu_workers):
            self.add(
                f"worker_gpu-{i}" if gpu_workers > 1 else "worker_gpu",
                [sys.executable, "-m", "therapybridge.worker_gpu"],
            )

    def watch(self) -> None:
        """Restart dead children with exponential backoff (reset after a minute of good health)."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(1.0)
                for c in self.children:
                    if c.alive():
                        if time.monotonic() - c.started_at > 60:
                            c.backoff_s = 1.0
                        continue
                    code = c.proc.returncode if c.proc else None
                    log.warning(
                        "child exited; restarting",
                        extra={"child": c.name, "code": code, "backoff_s": c.backoff_s, "restarts": c.restarts},
                    )
                    await asyncio.sleep(c.backoff_s)
                    c.backoff_s = min(c.backoff_s * 2, 30.0)
                    c.restarts += 1
                    try:
                        c.start(self.env)
                    except OSError as exc:  # e.g. the executable is gone: try again after the next backoff
                        log.error("child failed to start", extra={"child": c.name, "error_type": type(exc).__name__})
                        continue
                    log.info("child started", extra={"child": c.name, "pid": c.proc.pid if c.proc else None,
                                                     "restarts": c.restarts})  # fmt: skip

        self._watch = asyncio.ensure_future(loop())

    async def stop(self) -> None:
        if self._watch:
            self._watch.cancel()
        # Workers first (graceful: they finish or hand back tasks), the server last.
        for c in sorted(self.children, key=lambda c: c.name == "temporal"):
            if c.alive() and c.proc:
                c.proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.to_thread(c.proc.wait, 15)
                except subprocess.TimeoutExpired:
                    c.proc.kill()


async def queue_has_pollers(client: Client, queue: str, namespace: str) -> bool:
    kinds = (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
    for kind in kinds:
        resp = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(namespace=namespace, task_queue=TaskQueue(name=queue), task_queue_type=kind)
        )
        if resp.pollers:
            return True
    return False
