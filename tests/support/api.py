"""Helpers for the gateway tests (fixtures are in tests/support/api_fixtures.py): the server and account
handles, uploads, progress stream readers, and the database / blob store checks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import websockets
from sqlmodel import col, func, select

from tests.support.stack import Stack
from therapybridge.db import SessionRecord, session_scope
from therapybridge.users import create_user

UPLOAD_CAP_MB = 64  # the server under test runs with this cap (MAX_UPLOAD_SIZE_MB)
PING_S = 1.0  # and pings this often, so tests see pings without waiting 15 s
# and issues access tokens this long: the session-scoped accounts sign in once, at the start of a run
# that takes longer than the 30-minute default on a loaded machine (their uploads then got a 401).
TOKEN_MINUTES = 720
# A patient name and file name that must never show up in the gateway's log.
PATIENT_NAME = "Zelda Quixote-Testpatient"
AUDIO_NAME = "Zelda-Quixote-intake.flac"


@dataclass
class Api:
    base_url: str
    ws_url: str
    proc: subprocess.Popen[bytes]
    log: Path
    stack: Stack

    def client(self, token: str | None = None, **kw: Any) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=kw.pop("timeout", 60), **kw)

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


@dataclass
class Account:
    email: str
    password: str
    user_id: str
    token: str
    patient_id: str  # one patient of this account

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


# --------------------------------------------------------------------------- helpers


async def make_account(api: Api, role: str = "therapist", patient_name: str = PATIENT_NAME) -> Account:
    email, password = f"{role}-{uuid.uuid4().hex[:8]}@example.com", f"pw-{uuid.uuid4().hex}"
    user = await create_user(email, password, role)  # type: ignore[arg-type]
    async with api.client() as c:
        r = await c.post("/api/auth/token", data={"username": email, "password": password})
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        r = await c.post("/api/patients", json={"name": patient_name}, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201, r.text
    return Account(email, password, user.id, token, r.json()["id"])


async def upload(
    api: Api,
    who: Account,
    path: Path | None = None,
    *,
    name: str | None = None,
    content: bytes | None = None,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = content if content is not None else path.read_bytes()  # type: ignore[union-attr]
    fields = {"patient_id": who.patient_id} if data is None else data
    async with api.client(who.token) as c:
        return await c.post(
            "/api/sessions/upload",
            files={"file": (name or (path.name if path else "upload.bin"), body)},
            data=fields,
            headers=headers or {},
        )


async def session_count(therapist_id: str | None = None) -> int:
    async with session_scope() as db:
        q = select(func.count()).select_from(SessionRecord)
        if therapist_id:
            q = q.where(col(SessionRecord.therapist_id) == therapist_id)
        return (await db.exec(q)).one()


def blob_dirs(stack: Stack) -> set[str]:
    root = stack.blobs.root
    return {p.name for p in root.iterdir()} if root.exists() else set()


async def orphans(stack: Stack, before: set[str]) -> set[str]:
    """Session folders in the blob store that appeared since `before` and belong to no session row."""
    new = blob_dirs(stack) - before
    if not new:
        return set()
    async with session_scope() as db:
        rows = set((await db.exec(select(SessionRecord.id).where(col(SessionRecord.id).in_(new)))).all())
    return new - rows


async def watch_ws(api: Api, session_id: str, token: str, timeout: float = 600) -> tuple[list[dict[str, Any]], int]:
    """Every message of a WebSocket progress stream, and the close code."""
    messages: list[dict[str, Any]] = []
    url = f"{api.ws_url}/api/sessions/ws/{session_id}?token={token}"
    async with asyncio.timeout(timeout), websockets.connect(url) as ws:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in ws:
                messages.append(json.loads(raw))
        return messages, ws.close_code or 0


async def ws_close_code(api: Api, session_id: str, token: str) -> tuple[int, list[str]]:
    """For streams that should be refused: the close code and anything sent before it."""
    got: list[str] = []
    url = f"{api.ws_url}/api/sessions/ws/{session_id}?token={token}"
    async with asyncio.timeout(20), websockets.connect(url) as ws:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in ws:
                got.append(str(raw))
        return ws.close_code or 0, got


@dataclass
class SseEvent:
    event: str
    id: str | None
    data: dict[str, Any]


COMMENT = ":comment"  # the event name sse_events gives a comment line (a keep-alive)


async def sse_events(lines: AsyncIterator[str]) -> AsyncIterator[SseEvent]:
    """The events of a text/event-stream, in order; each comment line as an event named COMMENT."""
    event, eid, data = "message", None, ""
    async for line in lines:
        if line.startswith(":"):
            yield SseEvent(COMMENT, None, {})
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("id:"):
            eid = line[3:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif line == "" and data:
            yield SseEvent(event, eid, json.loads(data))
            event, eid, data = "message", None, ""


async def watch_sse(
    api: Api,
    session_id: str,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    timeout: float = 600,
) -> tuple[int, list[SseEvent], int]:
    """(HTTP status, events, keep-alive comments) of an SSE progress stream, read to its end."""
    events: list[SseEvent] = []
    comments = 0
    async with api.client(timeout=None) as c, asyncio.timeout(timeout):
        url = f"/api/sessions/{session_id}/status/stream"
        async with c.stream("GET", url, headers=headers or {}, params=params or {}) as r:
            if r.status_code != 200:
                return r.status_code, [], 0
            async for ev in sse_events(r.aiter_lines()):
                if ev.event == COMMENT:
                    comments += 1
                else:
                    events.append(ev)
            return r.status_code, events, comments


async def wait_status(api: Api, who: Account, session_id: str, statuses: set[str], timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    async with api.client(who.token) as c:
        while True:
            doc = (await c.get(f"/api/sessions/{session_id}")).json()
            if doc.get("status") in statuses:
                return doc
            if time.monotonic() > deadline:
                raise TimeoutError(f"session stayed {doc.get('status')}")
            await asyncio.sleep(0.3)
