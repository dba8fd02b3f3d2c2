"""The service commands: `users create`, `db upgrade`, and `serve` as the one-command service."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from alembic.script import ScriptDirectory

from tests.support.harness import REPO
from tests.support.ports import free_port
from therapybridge.db import alembic_config

CLI = [sys.executable, "-m", "therapybridge.cli"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A fresh one-machine setup: SQLite in a new data directory, nothing at the Temporal address."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS", "CODEC_KEYS")}
    return {**env, "THERAPYBRIDGE_DATA_DIR": str(tmp_path / "data"), **extra}


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, cwd=REPO, input=stdin, capture_output=True, text=True, timeout=120)


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_db_upgrade_and_users_create(tmp_path: Path) -> None:
    env = _env(tmp_path)
    r = _cli(env, "db", "upgrade")
    assert r.returncode == 0, r.stderr
    db = tmp_path / "data" / "therapybridge.db"
    assert {"users", "patients", "sessions", "alembic_version"} <= _tables(db)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (head,)

    r = _cli(env, "users", "create", "--email", "Ann@Example.com", "--role", "admin", stdin="long-enough-pw\n")
    assert r.returncode == 0, r.stderr
    user_id = r.stdout.strip()
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT email, role, password_hash FROM users WHERE id=?", (user_id,)).fetchone()
    email, role, hashed = row
    assert (email, role) == ("ann@example.com", "admin") and hashed.startswith("$argon2id$")
    assert "long-enough-pw" not in hashed

    again = _cli(env, "users", "create", "--email", "ann@example.com", "--password", "another-password")
    assert again.returncode == 1 and "already exists" in again.stderr
    short = _cli(env, "users", "create", "--email", "b@example.com", "--password", "short")
    assert short.returncode == 1 and "at least 12" in short.stderr
    assert (
        _cli(env, "users", "create", "--email", "c@example.com", "--password", "x" * 13, "--role", "root").returncode
        == 2
    )
    assert _cli(env, "db", "upgrade").returncode == 0  # idempotent


@pytest.mark.slow
async def test_serve_runs_the_whole_service_on_one_machine(tmp_path: Path) -> None:
    """Nothing answers at the Temporal address: `serve` starts the dev server and both workers as
    children, becomes healthy, and takes them all down on SIGTERM."""
    port = free_port()
    env = _env(tmp_path, TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}", TEMPORAL_UI_PORT=str(free_port()))
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)], env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 240
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as c:
            while True:
                assert proc.poll() is None, log.read_text()[-3000:]
                try:
                    r = await c.get("/api/health")
                    if r.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"never healthy: {log.read_text()[-3000:]}"
                await asyncio.sleep(1)
        children = psutil.Process(proc.pid).children()
        names = " ".join(" ".join(ch.cmdline()) for ch in children)
        assert "start-dev" in names and "therapybridge.worker_io" in names and "therapybridge.worker_gpu" in names
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
    # uvicorn re-raises the SIGTERM once it has shut down (and the children are stopped).
    assert proc.returncode in (0, -signal.SIGTERM), log.read_text()[-3000:]
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"children left running: {alive}"
