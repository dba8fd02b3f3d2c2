"""`bench.throughput --cluster`: the same runs on the production topology instead of a private dev
server: the real Temporal server on PostgreSQL, and the workers as docker-compose.yml's worker_io and
worker_cpu processes (tests/support/cluster.py, the harness of the cluster tests). As on the dev server,
the workflows are started through the client (no gateway), each case starts its own set of workers and
stops it after, and the workers run the shipped settings plus `--worker-env`."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

from bench.throughput.runner import Stack
from tests.support.cluster import NAMESPACE, Cluster, start_cluster

# What the app processes run with besides the shipped defaults and this process's environment
# (ASR_MODEL from --asr-model): JSON logs, from which the harness learns that a worker polls.
BENCH_SETTINGS = {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"}


class ClusterStack(Stack):
    """The cluster (kept for the whole run) and sets of worker processes on it."""

    def __init__(self) -> None:
        self._exit = contextlib.AsyncExitStack()
        self.cluster: Cluster | None = None
        self.names: list[str] = []
        self.round = 0
        self.workers = None
        self.client = None
        self.engine = None

    async def start(self) -> None:
        from therapybridge import db
        from therapybridge.settings import Settings

        cluster = await self._exit.enter_async_context(start_cluster(BENCH_SETTINGS, workers=(), gateway=False))
        self.cluster = cluster
        self.settings = Settings(
            temporal_address=cluster.temporal.address, temporal_namespace=NAMESPACE,
            codec_keys=cluster.env["CODEC_KEYS"], database_url=cluster.env["DATABASE_URL"],
            data_dir=Path(cluster.env["THERAPYBRIDGE_DATA_DIR"]),
        )  # fmt: skip
        self.client = cluster.client
        self.engine = db.get_engine(self.settings.resolved_database_url)
        print(f"cluster: Temporal server {cluster.temporal.address} on PostgreSQL; logs in {cluster.logdir}")

    async def start_workers(self, gpu_workers: int, extra_env: dict[str, str]) -> dict[str, int]:
        assert self.cluster is not None
        self.round += 1
        self.names = [f"io-{self.round}", *(f"gpu-{self.round}.{i}" for i in range(gpu_workers))]
        for name in self.names:
            self.cluster.start_worker(name, **extra_env)
        for name in self.names:
            await self.cluster.wait_worker(name)
        pids = {name: self.cluster.worker_pid(name) for name in self.names}
        await self._wait_for_pollers(pids)
        await asyncio.sleep(1.0)  # as on the dev server
        return pids

    def check_workers(self) -> None:
        assert self.cluster is not None
        for name in self.names:
            proc = self.cluster.workers[name].proc
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.cluster.log_path(name)}")

    async def stop_workers(self) -> None:
        """Gracefully (SIGTERM, as the dev server's supervisor stops its children)."""
        assert self.cluster is not None
        for name in self.names:
            await asyncio.to_thread(self.cluster.workers[name].kill, signal.SIGTERM)
        self.names = []

    async def stop(self) -> None:
        try:
            if self.cluster is not None:
                await self.stop_workers()
        finally:
            await self._exit.aclose()
