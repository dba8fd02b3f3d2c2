"""Load on the gateway: 20 concurrent short uploads and 50 concurrent progress watchers.

    python -m bench.api_load                       # starts its own service (see below)
    python -m bench.api_load --url http://127.0.0.1:8000 --email t@example.com --password ...

Without --url it starts `therapybridge serve` in a temporary data directory against a throwaway
Postgres (Debian's, as the tests do; --sqlite for the embedded SQLite default): the gateway starts the
Temporal dev server and both workers itself, as on a one-machine install. It then:

- uploads --uploads copies of a short recording at once (default 20 × jfk.flac, 11 s);
- opens --watchers progress streams at once (default 50, half WebSocket, half SSE) spread over
  those sessions, each read to its final message;
- meanwhile polls GET /api/sessions/{id} from --pollers concurrent clients until every session is
  final;

and prints upload and GET latency (p50/p95), how many sessions were processed, and whether every
watcher saw monotonic progress ending in the final state.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import websockets

from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("THERAPYBRIDGE_CORPUS", REPO.parent / "shared" / "corpus"))
FINAL = {"processed", "failed", "cancelled"}


@dataclass
class Results:
    upload_ms: list[float] = field(default_factory=list)
    get_ms: list[float] = field(default_factory=list)
    get_running_ms: list[float] = field(default_factory=list)  # answers for sessions still processing
    get_errors: int = 0
    watchers_final: int = 0
    watchers_monotonic: int = 0
    watcher_messages: int = 0
    watcher_errors: list[str] = field(default_factory=list)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def upload(c: httpx.AsyncClient, audio: bytes, name: str, patient_id: str, res: Results) -> str:
    t0 = time.perf_counter()
    r = await c.post("/api/sessions/upload", files={"file": (name, audio)}, data={"patient_id": patient_id})
    res.upload_ms.append((time.perf_counter() - t0) * 1000)
    r.raise_for_status()
    return str(r.json()["id"])


async def watch_ws(ws_base: str, sid: str, token: str, res: Results) -> None:
    percents: list[int] = []
    last: dict = {}
    try:
        async with websockets.connect(f"{ws_base}/api/sessions/ws/{sid}?token={token}") as ws:
            with contextlib.suppress(websockets.ConnectionClosed):
                async for raw in ws:
                    msg = json.loads(raw)
                    if msg.get("type") == "progress":
                        percents.append(msg["progress"])
                        last = msg
    except Exception as exc:
        res.watcher_errors.append(type(exc).__name__)
    _score(percents, last, res)


async def watch_sse(c: httpx.AsyncClient, sid: str, res: Results) -> None:
    percents: list[int] = []
    last: dict = {}
    try:
        async with c.stream("GET", f"/api/sessions/{sid}/status/stream", timeout=None) as r:
            async for line in r.aiter_lines():
                if line.startswith("data:"):
                    last = json.loads(line[5:])
                    percents.append(last["progress"])
    except Exception as exc:
        res.watcher_errors.append(type(exc).__name__)
    _score(percents, last, res)


def _score(percents: list[int], last: dict, res: Results) -> None:
    res.watcher_messages += len(percents)
    if last.get("status") in FINAL and last.get("final"):
        res.watchers_final += 1
    if percents and percents == sorted(percents):
        res.watchers_monotonic += 1


async def poll_gets(c: httpx.AsyncClient, ids: list[str], done: asyncio.Event, res: Results) -> None:
    while not done.is_set():
        sid = random.choice(ids)
        t0 = time.perf_counter()
        try:
            r = await c.get(f"/api/sessions/{sid}")
            r.raise_for_status()
            ms = (time.perf_counter() - t0) * 1000
            res.get_ms.append(ms)
            if r.json()["status"] not in FINAL:
                res.get_running_ms.append(ms)
        except httpx.HTTPError:
            res.get_errors += 1
        await asyncio.sleep(0.05)


async def wait_final(c: httpx.AsyncClient, ids: list[str], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    status: dict[str, str] = {}
    while time.monotonic() < deadline:
        for sid in ids:
            if status.get(sid) not in FINAL:
                status[sid] = (await c.get(f"/api/sessions/{sid}")).json()["status"]
        if all(s in FINAL for s in status.values()):
            break
        await asyncio.sleep(1.0)
    return status


async def run(url: str, token: str, args: argparse.Namespace) -> int:
    audio = args.audio.read_bytes()
    res = Results()
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120, limits=limits) as c:
        patient_id = (await c.post("/api/patients", json={"name": "Load Test"})).json()["id"]
        t0 = time.perf_counter()
        ids = await asyncio.gather(*(upload(c, audio, args.audio.name, patient_id, res) for _ in range(args.uploads)))
        uploaded = time.perf_counter()
        ws_base = url.replace("http", "ws", 1)
        watchers = [
            watch_ws(ws_base, ids[i % len(ids)], token, res) if i % 2 == 0 else watch_sse(c, ids[i % len(ids)], res)
            for i in range(args.watchers)
        ]
        done = asyncio.Event()
        pollers = [asyncio.create_task(poll_gets(c, ids, done, res)) for _ in range(args.pollers)]
        await asyncio.wait_for(asyncio.gather(*watchers), args.timeout)
        final = await wait_final(c, ids, args.timeout)
        done.set()
        await asyncio.gather(*pollers)
        wall = time.perf_counter() - t0

    processed = sum(1 for s in final.values() if s == "processed")
    print(
        f"uploads:   {len(ids)} concurrent × {args.audio.name}, all accepted in {uploaded - t0:.1f} s; "
        f"latency p50 {pct(res.upload_ms, 50):.0f} ms, p95 {pct(res.upload_ms, 95):.0f} ms"
    )
    print(
        f"GET /api/sessions/{{id}}: {len(res.get_ms)} requests from {args.pollers} clients, "
        f"p50 {pct(res.get_ms, 50):.1f} ms, p95 {pct(res.get_ms, 95):.1f} ms, errors {res.get_errors}"
    )
    print(
        f"  of which while the session was processing: {len(res.get_running_ms)}, "
        f"p50 {pct(res.get_running_ms, 50):.1f} ms, p95 {pct(res.get_running_ms, 95):.1f} ms"
    )
    print(
        f"watchers:  {args.watchers} ({(args.watchers + 1) // 2} WebSocket, {args.watchers // 2} SSE), "
        f"{res.watchers_final} saw the final message, {res.watchers_monotonic} monotonic, "
        f"{res.watcher_messages} progress messages, errors {len(res.watcher_errors)}"
    )
    print(
        f"sessions:  {processed}/{len(ids)} processed "
        f"({', '.join(f'{k} {v}' for k, v in sorted(_count(final).items()))}) in {wall:.1f} s wall"
    )
    ok = processed == len(ids) and res.watchers_final == args.watchers and res.get_errors == 0
    return 0 if ok else 1


def _count(statuses: dict[str, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in statuses.values():
        out[s] = out.get(s, 0) + 1
    return out


@contextlib.contextmanager
def own_service(use_sqlite: bool):
    """`therapybridge serve` on a fresh data directory (removed afterwards); yields (url, env)."""
    workdir = Path(tempfile.mkdtemp(prefix="tb-apiload-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CODEC_KEYS")}
    env |= {
        "THERAPYBRIDGE_DATA_DIR": str(workdir / "data"),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "TEMPORAL_UI_PORT": str(free_port()),
        "LOG_LEVEL": "WARNING",
    }
    postgres = None
    if not use_sqlite:
        sys.path.insert(0, str(REPO))
        from tests.support.harness import Postgres

        postgres = Postgres(workdir)
        postgres.start()
        env["DATABASE_URL"] = postgres.url
    port = free_port()
    log = open(workdir / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "therapybridge.cli", "serve", "--port", str(port)],
        env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}", env
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(60)
        if proc.poll() is None:
            proc.kill()
        log.close()
        if postgres:
            postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)


async def wait_healthy(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=url, timeout=5) as c:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if (await c.get("/api/health")).status_code == 200:
                    return
            await asyncio.sleep(1)
    raise TimeoutError("the gateway did not become healthy")


async def login(url: str, email: str, password: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        r = await c.post("/api/auth/token", data={"username": email, "password": password})
        r.raise_for_status()
        return str(r.json()["access_token"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="a running gateway (else one is started)")
    p.add_argument("--email", help="a therapist account on --url")
    p.add_argument("--password")
    p.add_argument("--audio", type=Path, default=CORPUS / "real" / "jfk.flac")
    p.add_argument("--uploads", type=int, default=20)
    p.add_argument("--watchers", type=int, default=50)
    p.add_argument("--pollers", type=int, default=10, help="concurrent GET /api/sessions/{id} clients")
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--sqlite", action="store_true", help="own service on SQLite instead of Postgres")
    args = p.parse_args()

    if args.url:
        token = asyncio.run(login(args.url, args.email, args.password))
        sys.exit(asyncio.run(run(args.url, token, args)))
    with own_service(args.sqlite) as (url, env):
        email, password = f"load-{uuid.uuid4().hex[:6]}@example.com", uuid.uuid4().hex
        t0 = time.monotonic()
        asyncio.run(wait_healthy(url))
        print(
            f"service:   gateway + Temporal dev server + workers healthy after {time.monotonic() - t0:.0f} s "
            f"({'SQLite' if args.sqlite else 'Postgres'})"
        )
        subprocess.run(
            [sys.executable, "-m", "therapybridge.cli", "users", "create", "--email", email, "--password", password],
            env=env, cwd=REPO, check=True, capture_output=True,
        )  # fmt: skip
        code = asyncio.run(run(url, asyncio.run(login(url, email, password)), args))
    sys.exit(code)


if __name__ == "__main__":
    main()
