"""Real services for the tests: a Temporal dev server, a throwaway Postgres, worker processes.

Everything listens on loopback, lives in a temporary directory and is stopped at the end.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support.ports import free_port, wait_port
from therapybridge import search_attributes

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("THERAPYBRIDGE_CORPUS", REPO.parent / "shared" / "corpus"))


def temporal_cli() -> str:
    from therapybridge.settings import Settings
    from therapybridge.temporal import find_temporal_cli

    cli = find_temporal_cli(Settings())
    if cli is None:
        raise RuntimeError("Temporal CLI missing: run `make setup`")
    return cli


class TemporalDevServer:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.db_file = workdir / "temporal.db"
        self.log = workdir / "temporal.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [
            temporal_cli(), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
            "--port", str(self.port), "--db-filename", str(self.db_file), "--log-level", "error",
            *search_attributes.dev_server_args(),
        ]  # fmt: skip
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(self.port)
        self._wait_for_namespace()

    def _wait_for_namespace(self, timeout: float = 120.0) -> None:
        """The frontend accepts connections slightly before the default namespace is registered: ask
        for the namespace until it is there (a fixed sleep was too short on a loaded machine)."""
        cmd = [temporal_cli(), "operator", "namespace", "describe", "--namespace", "default",
               "--address", self.address]  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            done = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
            if done.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"Temporal namespace not ready: {done.stderr.decode(errors='replace')[-300:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Postgres:
    """A throwaway cluster (Debian's postgresql). As root, it runs as the `postgres` user."""

    def __init__(self, workdir: Path) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            raise RuntimeError("PostgreSQL server binaries missing: run `make setup`")
        self.bin = Path(bins[-1])
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="tb-pg-"))
        self.data = self.dir / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = [str(a) for a in args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(self.bin / "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(self.bin / "pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.dir / "pg.log"), "-w", "start")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(self.bin / "pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


class WorkerProcess:
    """`python -m therapybridge.worker_io|worker_gpu` with the test environment."""

    def __init__(self, module: str, env: dict[str, str], log: Path) -> None:
        self.module, self.env, self.log = module, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", self.module], env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO
            )
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(20)
        if self.proc and self.proc.poll() is None:
            self.proc.kill()


@contextlib.contextmanager
def workers(env: dict[str, str], logdir: Path, gpu: int = 1, io: int = 1) -> Iterator[list[WorkerProcess]]:
    procs = [WorkerProcess("therapybridge.worker_io", env, logdir / f"worker_io-{i}.log").start() for i in range(io)]
    procs += [
        WorkerProcess("therapybridge.worker_gpu", env, logdir / f"worker_gpu-{i}.log").start() for i in range(gpu)
    ]
    try:
        yield procs
    finally:
        for p in procs:
            p.kill(signal.SIGTERM)
