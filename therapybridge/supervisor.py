"""The one-machine setup: the Temporal dev server and both workers as child processes.

`therapybridge process` and `therapybridge serve` use it when nothing answers at TEMPORAL_ADDRESS.
Children that die are restarted with backoff (in production the container runtime does this), and so
are children that stop answering (frozen by SIGSTOP, a wedged event loop): a worker must keep touching
its liveness file (therapybridge.liveness), the dev server must answer a gRPC health check, within
CHILD_UNRESPONSIVE_S; otherwise its process group is SIGKILLed and it is restarted like a dead one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from therapybridge import liveness
from therapybridge.settings import Settings
from therapybridge.temporal import dev_server_command, find_temporal_cli, is_listening, is_local, wait_for_server

log = logging.getLogger("therapybridge.supervisor")
PROBE_TIMEOUT_S = 5.0
STARTUP_GRACE_S = 120.0


@dataclass
class Child:
    name: str
    cmd: list[str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    backoff_s: float = 1.0
    started_at: float = 0.0
    liveness_file: Path | None = None  # workers: touched by their event loop
    probe: Callable[[], Awaitable[bool]] | None = None  # the dev server: a health RPC
    started_wall: float = 0.0
    answered_at: float = 0.0  # wall-clock time of the probe's last yes

    def start(self, env: dict[str, str]) -> None:
        if self.liveness_file is not None:
            env = env | {liveness.ENV: str(self.liveness_file)}
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(
                self.cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        self.started_at = time.monotonic()
        self.started_wall = self.answered_at = time.time()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def silent_s(self) -> float:
        """How long it has not answered, counted from its start until its first answer; 0 if nothing tells."""
        if self.liveness_file is not None:
            return liveness.silent_s(self.liveness_file, self.started_wall)
        if self.probe is not None:
            return max(0.0, time.time() - self.answered_at)
        return 0.0

    def answered_since_start(self) -> bool:
        if self.liveness_file is not None:
            with contextlib.suppress(OSError):
                return self.liveness_file.stat().st_mtime > self.started_wall
            return False
        return self.answered_at > self.started_wall

    def unresponsive(self, limit_s: float) -> float | None:
        """Seconds of silence past what is allowed, else None. Until its first answer a child gets at
        least STARTUP_GRACE_S: imports and model loads on a loaded machine must not look like a hang."""
        silent = self.silent_s()
        allowed = limit_s if self.answered_since_start() else max(limit_s, STARTUP_GRACE_S)
        return silent if silent > allowed else None

    async def kill(self) -> None:
        """SIGKILL the whole process group (it was started in its own session); a stopped process dies too."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(self.proc.wait, 30)


@dataclass
class Supervisor:
    settings: Settings
    children: list[Child] = field(default_factory=list)
    _watch: asyncio.Task[None] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)  # settings for the children only (benchmarks)
    _probe_client: Client | None = None

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["THERAPYBRIDGE_DATA_DIR"] = str(self.settings.data_dir.resolve())
        env["TEMPORAL_ADDRESS"] = self.settings.temporal_address
        env["CHILD_UNRESPONSIVE_S"] = str(self.settings.child_unresponsive_s)  # the beat keeps pace with the limit
        env.setdefault("PYTHONUNBUFFERED", "1")
        # One metrics port per worker process: the io and gpu child would both bind it (the second then
        # fails to start), so the one-machine setup runs its workers without SDK metrics.
        env.pop("WORKER_METRICS_BIND", None)
        return env | self.extra_env

    def add(self, name: str, cmd: list[str]) -> Child:
        logs = self.settings.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        child = Child(name, cmd, logs / f"{name}.log")
        if name.startswith("worker"):
            child.liveness_file = logs / f"{name}.alive"
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
        server = self.add("temporal", dev_server_command(self.settings, cli, headless))
        await wait_for_server(self.settings)
        server.probe = self._temporal_answers
        return True

    async def _temporal_answers(self) -> bool:
        """A gRPC health check: a frozen server still accepts TCP connections, so a port check is not enough."""
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                if self._probe_client is None:  # one client: it reconnects by itself after a restart
                    self._probe_client = await Client.connect(
                        self.settings.temporal_address, namespace=self.settings.temporal_namespace
                    )
                return await self._probe_client.service_client.check_health()
        except Exception:  # refused, timed out, not serving: all "no answer"
            return False

    def start_workers(self, gpu_workers: int = 1) -> None:
        self.add("worker_io", [sys.executable, "-m", "therapybridge.worker_io"])
        for i in range(gpu_workers):
            self.add(
                f"worker_gpu-{i}" if gpu_workers > 1 else "worker_gpu",
                [sys.executable, "-m", "therapybridge.worker_gpu"],
            )

    async def _probe(self, c: Child) -> None:
        if c.probe is not None and c.alive() and await c.probe():
            c.answered_at = time.time()

    def watch(self) -> None:
        """Restart dead and unanswering children with exponential backoff (reset after a minute of
        good health)."""
        limit = self.settings.child_unresponsive_s
        probe_every = liveness.beat_interval(limit)

        async def loop() -> None:
            last_probe = 0.0
            while True:
                await asyncio.sleep(1.0)
                if time.monotonic() - last_probe >= probe_every:
                    last_probe = time.monotonic()
                    await asyncio.gather(*(self._probe(c) for c in self.children))
                for c in self.children:
                    if c.alive():
                        silent = c.unresponsive(limit)
                        if silent is None:
                            if time.monotonic() - c.started_at > 60:
                                c.backoff_s = 1.0
                            continue
                        log.warning(
                            "child not answering; restarting",
                            extra={
                                "child": c.name,
                                "pid": c.proc.pid if c.proc else None,
                                "silent_s": round(silent, 1),
                            },
                        )
                        await c.kill()
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
