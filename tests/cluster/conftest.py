"""The cluster fixture: started once for the cluster tests, stopped at the end (tests/cluster/harness.py)."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.cluster.harness import APP_VALUES, NAMESPACE, Cluster, TemporalServer, _die_with_parent, low_port
from tests.cluster.topology import service
from tests.fault_harness import Gateway, fresh_database
from tests.harness import REPO, Postgres
from therapybridge import db
from therapybridge.settings import Settings
from therapybridge.temporal import connect

# What every process of the cluster runs with. The small English model, one transcription per gpu
# worker (so a second queued task goes to the other worker, not into the first one's spare core),
# 30-second windows (short recordings still give several), fast retries.
CLUSTER_SETTINGS = {
    "ASR_MODEL": "tiny.en",
    "GPU_WORKER_CONCURRENCY": "1",
    "ASR_CPU_THREADS": "1",
    "TRANSCRIBE_WINDOW_S": "30",
    "RETRY_INITIAL_S": "0.5",
    "RETRY_MAX_INTERVAL_S": "2",
    "HEARTBEAT_TIMEOUT_S": "20",
    "LOG_FORMAT": "json",
    "LOG_LEVEL": "INFO",
    "PYTHONUNBUFFERED": "1",
    "MAX_ACTIVE_SESSIONS_PER_USER": "1000",
    "METRICS_TOKEN": "cluster-metrics-token",
}


class ClusterGateway(Gateway):
    """docker-compose.yml's `api` service on this host's port, killed with the test process if that dies
    first."""

    def start(self) -> ClusterGateway:
        api = service("api")
        base = {k: v for k, v in self.env.items() if k not in APP_VALUES}
        env = api.env({k: self.env[k] for k in APP_VALUES}, base=base)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                api.with_options(host="127.0.0.1", port=str(self.port)),
                env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
            )  # fmt: skip
        return self


@pytest_asyncio.fixture(scope="session")
async def cluster() -> AsyncIterator[Cluster]:
    started = time.monotonic()
    phases: list[str] = []

    def phase(name: str) -> None:  # where the start-up time goes (printed with -s)
        phases.append(f"{name} {time.monotonic() - started:.0f}s")

    workdir = Path(tempfile.mkdtemp(prefix="tb-cluster-"))
    logs = workdir / "logs"
    logs.mkdir()
    postgres = Postgres(workdir)
    # Below the ephemeral range, like the Temporal ports: the restart test brings it back on this port.
    postgres.port = low_port("127.0.0.1")
    postgres.url = f"postgresql://postgres@127.0.0.1:{postgres.port}/postgres"
    await asyncio.to_thread(postgres.start)
    temporal: TemporalServer | None = None
    the_cluster: Cluster | None = None
    try:
        temporal = TemporalServer(postgres, logs / "temporal.log")
        phase("postgres")
        await asyncio.to_thread(temporal.create_schema)
        phase("schema")
        temporal.start()
        await asyncio.to_thread(temporal.wait_listening)
        await asyncio.to_thread(temporal.create_namespace)
        await temporal.wait_ready()
        phase("temporal")
        app_db = await fresh_database(postgres.url, "therapybridge")
        key = base64.b64encode(os.urandom(32)).decode()
        env = {
            **os.environ,
            **CLUSTER_SETTINGS,
            "THERAPYBRIDGE_DATA_DIR": str(workdir / "data"),
            "DATABASE_URL": app_db,
            "TEMPORAL_ADDRESS": temporal.address,
            "TEMPORAL_NAMESPACE": NAMESPACE,
            "CODEC_KEYS": f"cluster:{key}",
        }
        # The operator's step before any process starts (docs/deploy.md): the app's schema, once.
        upgrade = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "therapybridge.cli", "db", "upgrade"],
            env=env, cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert upgrade.returncode == 0, upgrade.stderr[-2000:]
        settings = Settings(
            temporal_address=temporal.address, temporal_namespace=NAMESPACE, codec_keys=env["CODEC_KEYS"],
            database_url=app_db, data_dir=workdir / "data",
        )  # fmt: skip
        client = await connect(settings)
        the_cluster = Cluster(workdir, env, postgres, temporal, ClusterGateway(env, logs / "api.log"), client)
        for name in ("io", "gpu-a", "gpu-b"):
            the_cluster.start_worker(name)
        for name in ("io", "gpu-a", "gpu-b"):
            await the_cluster.wait_worker(name)
        phase("workers")
        # Healthy means the database, Temporal and a poller on each queue.
        the_cluster.gateway.start()
        await the_cluster.gateway.wait_healthy(600)
        phase("gateway")
        print(f"\ncluster up: {', '.join(phases)}")
        yield the_cluster
    finally:
        if the_cluster is not None:
            await db.get_engine(Settings(database_url=the_cluster.env["DATABASE_URL"]).resolved_database_url).dispose()
            the_cluster.stop()
        else:
            if temporal is not None:
                temporal.kill(signal.SIGTERM)
            postgres.stop()


@pytest.fixture(scope="session")
def cluster_audio(corpus: Path, cluster: Cluster) -> dict[str, Path]:
    """Short recordings cut from the synthetic corpus (two speakers each): 20 s and 60 s clips."""
    out = cluster.workdir / "audio"
    out.mkdir(exist_ok=True)
    clips: dict[str, Path] = {}
    for name, src, seconds in [
        *((f"short-{i}", f"d0{i}", 20) for i in (1, 2, 3, 4, 6, 8)),
        *((f"long-{i}", f"d0{i}", 60) for i in (1, 2, 3, 4)),
    ]:
        path = out / f"{name}.flac"
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", str(corpus / "synthetic" / f"{src}.flac"),
             "-t", str(seconds), "-ac", "1", "-ar", "16000", str(path)],
            check=True, timeout=120,
        )  # fmt: skip
        clips[name] = path
    return clips
