"""An in-process gateway for the hardening tests: its own SQLite database and data directory, no
Temporal (uploads' workflow start is replaced), settings from the environment as in production.
Fast enough to build one per test, so each test picks its own limits."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from therapybridge import db
from therapybridge.api import deps
from therapybridge.api.app import create_app
from therapybridge.api.monitor import SessionMonitor
from therapybridge.settings import Settings, get_settings
from therapybridge.users import create_user


@dataclass
class Gateway:
    app: FastAPI
    settings: Settings
    data_dir: Path

    def client(self, token: str | None = None, ip: str = "127.0.0.1", **kw: Any) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport = httpx.ASGITransport(app=self.app, client=(ip, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://gw.test", headers=headers, **kw)

    async def account(self, role: str = "therapist", password: str | None = None) -> tuple[str, str, str]:
        """(email, password, user id) of a new account."""
        email, password = f"{role}-{uuid.uuid4().hex[:8]}@example.com", password or f"pw-{uuid.uuid4().hex}"
        user = await create_user(email, password, role)  # type: ignore[arg-type]
        return email, password, user.id

    async def login(self, email: str, password: str, ip: str = "127.0.0.1") -> httpx.Response:
        async with self.client(ip=ip) as c:
            return await c.post("/api/auth/token", data={"username": email, "password": password})

    async def token(self, role: str = "therapist") -> tuple[str, str]:
        """(access token, user id) of a new signed-in account."""
        email, password, user_id = await self.account(role)
        r = await self.login(email, password)
        assert r.status_code == 200, r.text
        return r.json()["access_token"], user_id


class _NoTemporal:
    pass


@asynccontextmanager
async def local_gateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> AsyncIterator[Gateway]:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("THERAPYBRIDGE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("SECRET_KEY", "test-" + uuid.uuid4().hex)
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:9")  # nothing answers: no workflow is ever started
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    settings = get_settings()
    try:
        await db.init_db()
        app = create_app(settings)
        app.dependency_overrides[deps.get_temporal] = _NoTemporal
        # What the lifespan sets up (ASGITransport does not run it); Temporal stays unreachable.
        app.state.temporal = deps.TemporalConnection(settings)
        app.state.monitor = SessionMonitor(settings, app.state.temporal)  # never started: no stalls seen
        app.state.background = set()

        async def started(*_a: Any, **_k: Any) -> None:
            return None

        monkeypatch.setattr("therapybridge.api.runs.start_session", started)
        yield Gateway(app, settings, data_dir)
    finally:
        await db.get_engine().dispose()
        monkeypatch.undo()
        get_settings.cache_clear()
        db.get_engine.cache_clear()


def lying_flac(tmp_path: Path, real_s: float, declared_s: float, name: str = "lying.flac") -> Path:
    """A FLAC of `real_s` seconds of tone whose STREAMINFO claims `declared_s` (the issue's attack)."""
    import subprocess

    path = tmp_path / name
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency=440:duration={real_s}:sample_rate=16000", "-c:a", "flac", str(path)],
        check=True,
    )  # fmt: skip
    data = bytearray(path.read_bytes())
    # STREAMINFO starts at byte 8; its bytes 10..17 hold rate(20) channels(3) bits(5) total_samples(36).
    packed = int.from_bytes(data[18:26], "big")
    packed = (packed & ~((1 << 36) - 1)) | int(declared_s * 16000)
    data[18:26] = packed.to_bytes(8, "big")
    path.write_bytes(data)
    return path
