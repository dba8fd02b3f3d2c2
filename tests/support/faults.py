"""Helpers for the fault-injection tests, on top of tests/support/harness.py.

A `Lane` is an isolated pair of task queues with its own worker processes, so a test can kill its
workers (or point them at a broken model or provider) without touching the shared `stack` workers.
Everything runs on loopback, in the test's temporary directory, and stops at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowHandle

from tests.support.harness import REPO, TemporalDevServer, WorkerProcess
from therapybridge import db
from therapybridge import messages as m
from therapybridge.document import SessionDocument
from therapybridge.settings import Settings
from therapybridge.temporal import connect, start_session

SYNTHETIC = ["d01", "d02", "d03", "d04", "d06", "d08", "d09", "d11", "d12"]


# --------------------------------------------------------------------------- lanes


@dataclass
class Lane:
    """Own task queues + own worker processes on a Temporal server (shared or a test's own)."""

    name: str
    env: dict[str, str]
    settings: Settings
    client: Client
    logdir: Path
    procs: dict[str, WorkerProcess] = field(default_factory=dict)

    def log_path(self, name: str) -> Path:
        return self.logdir / f"{self.name}-{name}.log"

    def start_worker(self, kind: str, name: str | None = None, **env: str) -> WorkerProcess:
        """kind: "io" or "gpu"; `name` (default: kind) tells extra workers apart; `env` overrides
        settings of this worker only (a misconfigured model, another gpu queue...)."""
        module = "therapybridge.worker_io" if kind == "io" else "therapybridge.worker_gpu"
        name = name or kind
        proc = WorkerProcess(module, {**self.env, **env}, self.log_path(name)).start()
        self.procs[name] = proc
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        self.procs[name].kill(sig)

    async def wait_started(self, name: str, count: int = 1, timeout: float = 180.0) -> None:
        """Until the worker's log says `worker started` `count` times (it polls from then on)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(1 for r in read_log(self.log_path(name)) if r.get("msg") == "worker started") >= count:
                return
            proc = self.procs[name].proc
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{name} worker exited with {proc.returncode}; see {self.log_path(name)}")
            await asyncio.sleep(0.2)
        raise TimeoutError(f"{name} worker did not start within {timeout}s; see {self.log_path(name)}")

    def records(self, name: str) -> list[dict[str, Any]]:
        return read_log(self.log_path(name))

    def stop(self) -> None:
        for p in self.procs.values():
            p.kill(signal.SIGTERM)

    @property
    def engine(self) -> AsyncEngine:
        return db.get_engine(self.settings.resolved_database_url)

    async def document(self, session_id: str) -> SessionDocument | None:
        return await db.get_session_document(session_id, self.engine)

    async def start(self, inp: m.SessionInput, **settings_update: Any) -> WorkflowHandle[Any, Any]:
        """Start the session on this lane (`settings_update`: e.g. another gpu_task_queue)."""
        settings = self.settings.model_copy(update=settings_update) if settings_update else self.settings
        return await start_session(self.client, settings, inp)


async def fresh_database(postgres_url: str, name: str) -> str:
    """A new, empty database in the test cluster (its URL): a lane whose provider failures must not
    reach the shared circuit breakers, or whose rows other tests must not see."""
    import asyncpg

    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


@contextlib.asynccontextmanager
async def lane(
    base_env: dict[str, str],
    base_settings: Settings,
    logdir: Path,
    *,
    temporal_address: str | None = None,
    workers: tuple[str, ...] = ("io", "gpu"),
    own_database: bool = False,
    **overrides: Any,
) -> AsyncIterator[Lane]:
    """A lane with fresh queue names; `overrides` are Settings fields (also passed to the workers).
    own_database: the lane's workers use a database of their own (see `fresh_database`)."""
    name = f"lane-{uuid.uuid4().hex[:8]}"
    fields: dict[str, Any] = {
        "io_task_queue": f"{name}-io",
        "gpu_task_queue": f"{name}-gpu",
        "temporal_address": temporal_address or base_settings.temporal_address,
        **overrides,
    }
    if own_database:
        fields["database_url"] = await fresh_database(base_settings.database_url, name.replace("-", "_"))
        await db.init_db(db.get_engine(Settings(database_url=fields["database_url"]).resolved_database_url))
    env = {**base_env, **{k.upper(): str(v) for k, v in fields.items()}}
    settings = base_settings.model_copy(update=fields)
    client = await connect(settings)
    logdir.mkdir(parents=True, exist_ok=True)
    the_lane = Lane(name, env, settings, client, logdir)
    try:
        for kind in workers:
            the_lane.start_worker(kind)
        for kind in workers:
            await the_lane.wait_started(kind)
        yield the_lane
    finally:
        the_lane.stop()


@contextlib.contextmanager
def own_temporal(workdir: Path) -> Iterator[TemporalDevServer]:
    """A dev server of the test's own (persistent SQLite file), so the test may stop and restart it."""
    workdir.mkdir(parents=True, exist_ok=True)
    server = TemporalDevServer(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- logs and history


def read_log(path: Path) -> list[dict[str, Any]]:
    """The JSON records of a worker log (lines that are not JSON, e.g. a crash trace, are skipped)."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            rec = json.loads(line)
            if isinstance(rec, dict):
                records.append(rec)
    return records


async def wait_for(predicate: Any, timeout: float, interval: float = 0.3, what: str = "condition") -> Any:
    """Poll an async predicate until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(interval)
    raise TimeoutError(f"{what} not reached within {timeout}s")


__all__ = ["REPO", "SYNTHETIC", "Lane", "lane", "own_temporal"]


# --------------------------------------------------------------------------- a fake OpenAI server


class FakeOpenAI:
    """A local HTTP server speaking the OpenAI audio transcription protocol (POST
    /v1/audio/transcriptions, multipart, verbose_json). `script` is consumed one status per request
    (then 200 forever; 0 means a 200 after 2 s); a 200 answers `text` spread evenly over the uploaded
    WAV's duration; a 429 carries `Retry-After: 7`. It is
    the paid third-party API, the one thing the tests may stand in for (ARCHITECTURE.md §8)."""

    API_KEY = "test-key"

    def __init__(self, text: str) -> None:
        import http.server
        import threading

        self.text = text
        self.script: list[int] = []
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status = fake.script.pop(0) if fake.script else 200
                if status == 0:  # scripted "slow": answer after 2 s (a client timeout's test)
                    time.sleep(2.0)
                    status = 200
                if self.headers.get("authorization") != f"Bearer {FakeOpenAI.API_KEY}":
                    status = 401
                fake.requests.append({"path": self.path, "status": status, "bytes": len(body)})
                if self.path != "/v1/audio/transcriptions":
                    status = 404
                if status == 200:
                    answer = fake.answer(_wav_seconds(body), b"verbose_json" in body)
                else:
                    answer = {"error": {"message": f"scripted {status}", "type": "server_error", "code": None}}
                data = json.dumps(answer).encode()
                self.send_response(status)
                if status == 429:
                    self.send_header("retry-after", "7")
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up (the timeout test) is not an error here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def answer(self, duration: float, verbose: bool) -> dict[str, Any]:
        words = self.text.split()
        step = max(duration - 1.0, 1.0) / max(len(words), 1)
        timed = [{"word": w.strip(",.?!"), "start": round(0.5 + i * step, 2), "end": round(0.5 + (i + 0.9) * step, 2)}
                 for i, w in enumerate(words)]  # fmt: skip
        segment = {
            "id": 0, "seek": 0, "start": timed[0]["start"], "end": timed[-1]["end"], "text": " " + self.text,
            "tokens": [], "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 1.2, "no_speech_prob": 0.01,
        }  # fmt: skip
        if not verbose:
            return {"text": self.text}
        return {"task": "transcribe", "language": "english", "duration": duration, "text": self.text,
                "words": timed, "segments": [segment]}  # fmt: skip

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _wav_seconds(body: bytes) -> float:
    """Duration of the 16 kHz 16-bit mono WAV inside a multipart body (its data chunk size)."""
    i = body.find(b"data", body.find(b"WAVE"))
    if i < 0:
        return 0.0
    return int.from_bytes(body[i + 4 : i + 8], "little") / (2 * 16000)


# --------------------------------------------------------------------------- the gateway


class Gateway:
    """`therapybridge serve` as the gateway alone (Temporal answers and the lane's workers poll, so it
    starts nothing else), on a port it keeps across restarts."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        from tests.support.ports import free_port

        # The watchers here reconnect with the same URL after a restart, so they authenticate with the
        # bearer token in the query (ALLOW_QUERY_TOKEN) rather than a single-use ticket (tests/api/test_tickets.py).
        self.env, self.log = {**env, "ALLOW_QUERY_TOKEN": "true"}, log
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Gateway:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "therapybridge.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        return self

    async def wait_healthy(self, timeout: float = 180.0) -> dict[str, Any]:
        import httpx

        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as c:
            while time.monotonic() < deadline:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(f"the gateway exited with {self.proc.returncode}; see {self.log}")
                with contextlib.suppress(httpx.TransportError):
                    r = await c.get("/api/health")
                    if r.status_code == 200:
                        return dict(r.json())
                await asyncio.sleep(0.3)
        raise TimeoutError(f"the gateway was not healthy within {timeout}s; see {self.log}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    async def account(self) -> tuple[str, str]:
        """A new therapist (created with the CLI against the gateway's database) with one patient:
        (access token, patient id)."""
        import httpx

        email, password = f"t-{uuid.uuid4().hex[:8]}@example.com", f"pw-{uuid.uuid4().hex}"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "therapybridge.cli", "users", "create", "--email", email, "--password", password,
            env=self.env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, err.decode()[-2000:]
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as c:
            r = await c.post("/api/auth/token", data={"username": email, "password": password})
            r.raise_for_status()
            token = r.json()["access_token"]
            r = await c.post("/api/patients", json={"name": "Fault Test"}, headers={"Authorization": f"Bearer {token}"})
            r.raise_for_status()
            return token, r.json()["id"]
