"""The production topology as processes on loopback: PostgreSQL, the real Temporal server on it (the
binaries `scripts/setup.sh` builds, the configuration in docker/temporal/), the API gateway, one io
worker and two gpu workers sharing one blob directory and one CODEC_KEYS.

The Temporal server listens on 127.0.0.2, a loopback address the gateway does not count as local, so
`therapybridge serve` runs as the gateway alone, exactly as in docker-compose.yml. Every child gets
SIGKILL if the test process dies (PR_SET_PDEATHSIG), and the fixture stops everything it started.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, ListWorkflowExecutionsRequest
from temporalio.client import Client

from tests.support.compose import interpolate
from tests.support.faults import Gateway, fresh_database, read_log
from tests.support.harness import REPO, Postgres, WorkerProcess, temporal_cli
from tests.support.ports import free_port, low_port, wait_port
from tests.support.topology import service
from therapybridge import db
from therapybridge.settings import Settings
from therapybridge.temporal import connect

TEMPORAL_DIR = REPO / "docker" / "temporal"
# The variables docker-compose.yml sets for the app services whose compose values name compose hosts and
# volumes: the harness's values replace them (tests/support/topology.py).
APP_VALUES = (
    "THERAPYBRIDGE_DATA_DIR", "DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_UI_ORIGIN",
)  # fmt: skip
TEMPORAL_VERSION = (TEMPORAL_DIR / "VERSION").read_text().strip()
UI_VERSION = (TEMPORAL_DIR / "UI_VERSION").read_text().strip()
HOST = "127.0.0.2"  # the Temporal server's address (see the module docstring)
NAMESPACE = "default"


def temporal_bin_dir() -> Path:
    """Where `scripts/setup.sh` installs the server and the schema tool of TEMPORAL_VERSION."""
    gopath = os.environ.get("GOPATH") or str(Path.home() / "go")
    return Path(gopath.split(os.pathsep)[0]) / "bin" / f"temporal-server-v{TEMPORAL_VERSION}"


def _gopath() -> Path:
    return Path((os.environ.get("GOPATH") or str(Path.home() / "go")).split(os.pathsep)[0])


def ui_server() -> Path:
    """The Temporal UI server `scripts/setup.sh` builds (github.com/temporalio/ui-server/v2, UI_VERSION)."""
    return _gopath() / "bin" / f"temporal-ui-v{UI_VERSION}" / "server"


def ui_root() -> Path:
    """The ui-server module (in the Go module cache since the build): its config/docker.yaml is the
    template the temporalio/ui image starts with (`--env docker`), filled from the same variables."""
    modcache = os.environ.get("GOMODCACHE") or str(_gopath() / "pkg" / "mod")
    return Path(modcache) / "github.com" / "temporalio" / "ui-server" / f"v2@v{UI_VERSION}"


def schema_dir() -> Path:
    """The server module's PostgreSQL schemas (in the Go module cache since the build)."""
    modcache = os.environ.get("GOMODCACHE") or str(Path(os.environ.get("GOPATH") or Path.home() / "go") / "pkg/mod")
    return Path(modcache) / f"go.temporal.io/server@v{TEMPORAL_VERSION}" / "schema" / "postgresql" / "v12"


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the test process ends, however it ends (no orphans)."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class TemporalServer:
    """docker/temporal/start.sh with the built binary, on fixed ports of its own across restarts."""

    PORTS = (
        "FRONTEND_GRPC_PORT", "FRONTEND_HTTP_PORT", "FRONTEND_MEMBERSHIP_PORT", "HISTORY_GRPC_PORT",
        "HISTORY_MEMBERSHIP_PORT", "MATCHING_GRPC_PORT", "MATCHING_MEMBERSHIP_PORT", "WORKER_GRPC_PORT",
        "WORKER_MEMBERSHIP_PORT", "PROMETHEUS_PORT",
    )  # fmt: skip

    def __init__(self, postgres: Postgres, log: Path) -> None:
        self.bin = temporal_bin_dir()
        for tool in ("server", "sql"):
            if not (self.bin / tool).is_file():
                raise RuntimeError(f"{self.bin / tool} missing: run `make setup` (builds Temporal {TEMPORAL_VERSION})")
        self.ports: dict[str, int] = {}
        while len(set(self.ports.values())) < len(self.PORTS):
            self.ports = {name: low_port(HOST) for name in self.PORTS}
        self.port = self.ports["FRONTEND_GRPC_PORT"]
        self.address = f"{HOST}:{self.port}"
        self.log = log
        self.postgres = postgres
        # What compose's `temporal` service sets, with this host's values; the ports move (several
        # servers' worth on one host) and the binary is not at the image's path.
        self.env = service("temporal").env(
            {
                "BIND_ON_IP": HOST,
                "POSTGRES_SEEDS": "127.0.0.1",
                "DB_PORT": str(postgres.port),
                "POSTGRES_USER": "postgres",
                "POSTGRES_PWD": "unused",  # the throwaway cluster trusts loopback
            },
            base={
                **os.environ,
                **{k: str(v) for k, v in self.ports.items()},
                "TEMPORAL_SERVER": str(self.bin / "server"),
                "LOG_LEVEL": "warn",
            },
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def create_schema(self) -> None:
        """docker/temporal-setup.sh schema, as the compose file's temporal-schema job runs it."""
        job = service("temporal-schema")
        env = job.env(
            {"POSTGRES_SEEDS": "127.0.0.1", "DB_PORT": str(self.postgres.port), "POSTGRES_USER": "postgres",
             "SQL_PASSWORD": "unused"},
            base={**os.environ, "TEMPORAL_SQL_TOOL": str(self.bin / "sql"), "TEMPORAL_SCHEMA_DIR": str(schema_dir())},
        )  # fmt: skip
        done = subprocess.run(list(job.argv), env=env, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"temporal-setup.sh schema failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                list(service("temporal").argv), env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent,
            )  # fmt: skip

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_listening(self, timeout: float = 240.0) -> None:
        wait_port(self.port, timeout, HOST, self.alive)

    async def wait_ready(self, timeout: float = 240.0) -> None:
        """Until the frontend listens, the namespace describes and a visibility query answers: only then
        do workers (which describe the namespace on start) and clients get a working server."""
        await asyncio.to_thread(self.wait_listening, timeout)
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"the Temporal server exited; see {self.log}")
            try:
                client = await asyncio.wait_for(Client.connect(self.address, namespace=NAMESPACE), 10)
                svc = client.workflow_service
                await svc.describe_namespace(
                    DescribeNamespaceRequest(namespace=NAMESPACE), timeout=timedelta(seconds=10)
                )
                await svc.list_workflow_executions(
                    ListWorkflowExecutionsRequest(namespace=NAMESPACE, page_size=1), timeout=timedelta(seconds=10)
                )
                return
            except Exception as exc:  # not ready yet: unavailable, namespace not found, timeouts
                last = exc
            await asyncio.sleep(0.5)
        raise TimeoutError(f"the Temporal server was not ready within {timeout}s ({last!r}); see {self.log}")

    def create_namespace(self) -> None:
        """docker/temporal-setup.sh namespace, as the compose file's temporal-namespace job runs it."""
        job = service("temporal-namespace")
        env = job.env(
            {"TEMPORAL_ADDRESS": self.address, "TEMPORAL_NAMESPACE": NAMESPACE},
            base={**os.environ, "TEMPORAL_CLI": temporal_cli()},
        )
        done = subprocess.run(list(job.argv), env=env, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"temporal-setup.sh namespace failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


class TemporalUI:
    """docker-compose.yml's temporal-ui: the same ui-server version and config template as its image,
    pointed at the cluster's frontend and at the gateway's codec endpoint."""

    def __init__(self, temporal_address: str, public_url: str, log: Path) -> None:
        for path in (ui_server(), ui_root() / "config" / "docker.yaml"):
            if not path.is_file():
                raise RuntimeError(f"{path} missing: run `make setup` (builds the Temporal UI {UI_VERSION})")
        self.port = low_port("127.0.0.1")
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.origin = f"http://localhost:{self.port}"
        ui = service("temporal-ui")
        # Compose's TEMPORAL_CODEC_ENDPOINT is ${PUBLIC_URL}/codec: the API's URL as the browser sees it.
        codec = str(interpolate(ui.environment["TEMPORAL_CODEC_ENDPOINT"], {"PUBLIC_URL": public_url}))
        self.env = ui.env(
            {"TEMPORAL_ADDRESS": temporal_address, "TEMPORAL_CODEC_ENDPOINT": codec},
            base={**os.environ, "TEMPORAL_UI_PORT": str(self.port)},  # the image's port is 8080
        )
        # The image's entrypoint: ./ui-server --env docker start
        self.argv = [str(ui_server()), "--root", str(ui_root()), "--env", "docker", "start"]
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
            )
        wait_port(self.port, 120, alive=lambda: self.proc is not None and self.proc.poll() is None)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


def restart_postgres(pg: Postgres) -> None:
    """Stop PostgreSQL at once (immediate: like a crash, no checkpoint) and start it on the same data."""
    pg_ctl = str(pg.bin / "pg_ctl")
    opts = f"-p {pg.port} -k {pg.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg._run(pg_ctl, "-D", str(pg.data), "-m", "immediate", "stop")
    pg._run(pg_ctl, "-D", str(pg.data), "-o", opts, "-l", str(pg.dir / "pg.log"), "-w", "start")


@dataclass
class Cluster:
    workdir: Path
    env: dict[str, str]
    postgres: Postgres
    temporal: TemporalServer
    gateway: Gateway
    client: Client  # with the codec, like the workers
    ui: TemporalUI | None = None
    workers: dict[str, WorkerProcess] = field(default_factory=dict)
    metrics_ports: dict[str, int] = field(default_factory=dict)  # each worker's WORKER_METRICS_BIND port

    @property
    def logdir(self) -> Path:
        return self.workdir / "logs"

    @property
    def blob_root(self) -> Path:
        return Path(self.env["THERAPYBRIDGE_DATA_DIR"]) / "blobs"

    def log_path(self, name: str) -> Path:
        return self.logdir / f"{name}.log"

    def records(self, name: str) -> list[dict[str, Any]]:
        return read_log(self.log_path(name))

    def app_env(self, compose_service: str, **extra: str) -> dict[str, str]:
        """The environment of an app process: what the compose service sets (APP_VALUES from here),
        over this cluster's settings (in compose: the .env file)."""
        base = {k: v for k, v in self.env.items() if k not in APP_VALUES}
        return service(compose_service).env({k: self.env[k] for k in APP_VALUES}, base={**base, **extra})

    def start_worker(self, name: str, module: str | None = None, **extra_env: str) -> WorkerProcess:
        """name: io, gpu-a, gpu-b (the kind is the part before the dash), run as docker-compose.yml's
        worker_io or worker_cpu (no GPU here); module: another release's io worker instead."""
        spec = service("worker_io" if name.startswith("io") else "worker_cpu")
        argv = [sys.executable, "-m", module] if module else list(spec.argv)
        # The same metrics port across restarts (a dead worker's socket is gone with its process).
        port = self.metrics_ports.setdefault(name, low_port("127.0.0.1"))
        env = self.app_env(spec.name, WORKER_METRICS_BIND=f"127.0.0.1:{port}", **extra_env)
        proc = WorkerProcess(argv[-1], env, self.log_path(name))
        with open(proc.log, "ab") as out:
            proc.proc = subprocess.Popen(
                argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
                preexec_fn=_die_with_parent,
            )  # fmt: skip
        self.workers[name] = proc
        return proc

    async def wait_worker(self, name: str, count: int = 1, timeout: float = 600.0) -> None:
        """Until the worker's log says `worker started` `count` times (it polls from then on)."""
        await self.wait_message(name, "worker started", count, timeout)

    async def wait_message(self, name: str, msg: str, count: int = 1, timeout: float = 600.0) -> None:
        """Until the worker's log has `count` records with this `msg`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(1 for r in self.records(name) if r.get("msg") == msg) >= count:
                return
            proc = self.workers[name].proc
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"worker {name} exited with {proc.returncode}; see {self.log_path(name)}")
            await asyncio.sleep(0.3)
        raise TimeoutError(f"worker {name} logged no {msg!r} within {timeout}s; see {self.log_path(name)}")

    def kill_worker(self, name: str, sig: int = signal.SIGKILL) -> None:
        self.workers[name].kill(sig)

    def worker_pid(self, name: str) -> int:
        proc = self.workers[name].proc
        assert proc is not None
        return proc.pid

    def stop(self) -> None:
        """Everything, newest first; each step runs even if one before it failed. SIGKILL: the tests are
        over and the state is thrown away, so a graceful shutdown would only cost time."""
        with contextlib.suppress(Exception):
            self.gateway.stop(signal.SIGKILL)
        with contextlib.suppress(Exception):
            if self.ui is not None:
                self.ui.kill()
        for w in self.workers.values():
            with contextlib.suppress(Exception):
                w.kill(signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.temporal.kill(signal.SIGKILL)
        self.postgres.stop()
        if not os.environ.get("TB_CLUSTER_KEEP"):  # keep the logs to look at a failure
            shutil.rmtree(self.workdir, ignore_errors=True)


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


@contextlib.asynccontextmanager
async def start_cluster(
    settings: Mapping[str, str] | None = None,
    workers: Sequence[str] = ("io", "gpu-a", "gpu-b"),
    gateway: bool = True,
) -> AsyncIterator[Cluster]:
    """The whole cluster, up and healthy; everything stopped on exit (tests/deploy/cluster/conftest.py, bench).

    settings: what every app process runs with (default CLUSTER_SETTINGS); workers: the ones started
    here (Cluster.start_worker names); gateway: False leaves out the gateway and the Temporal UI
    (bench.throughput starts workflows through the client and brings its own sets of workers)."""
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
        gateway_port = free_port()
        ui = TemporalUI(temporal.address, f"http://127.0.0.1:{gateway_port}", logs / "ui.log") if gateway else None
        env = {
            **os.environ,
            **(CLUSTER_SETTINGS if settings is None else settings),
            "THERAPYBRIDGE_DATA_DIR": str(workdir / "data"),
            "DATABASE_URL": app_db,
            "TEMPORAL_ADDRESS": temporal.address,
            "TEMPORAL_NAMESPACE": NAMESPACE,
            "TEMPORAL_UI_ORIGIN": ui.origin if ui else "",  # the codec endpoints' CORS origin
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
        api = ClusterGateway(env, logs / "api.log")
        api.port, api.base_url = gateway_port, f"http://127.0.0.1:{gateway_port}"
        api.ws_url = f"ws://127.0.0.1:{gateway_port}"
        the_cluster = Cluster(workdir, env, postgres, temporal, api, client, ui=ui)
        if ui is not None:
            await asyncio.to_thread(ui.start)
        for name in workers:
            the_cluster.start_worker(name)
        for name in workers:
            await the_cluster.wait_worker(name)
        phase("workers")
        if gateway:
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
