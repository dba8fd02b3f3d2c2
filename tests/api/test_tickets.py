"""Issue 13, defect 7: no bearer token in URLs. Progress streams and audio take a short-lived ticket
scoped to one session and purpose (stream tickets are single use); ?token= is refused unless
ALLOW_QUERY_TOKEN is set."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.gateway import Gateway, local_gateway
from therapybridge.blobs import BlobStore
from therapybridge.db import SessionRecord, session_scope

DONE = {"Last-Event-ID": "999.99"}  # resume after the final event: 204, so nothing streams


async def _session(gw: Gateway, user_id: str, sid: str) -> str:
    store = BlobStore(gw.settings.blob_dir)
    store.path(f"{sid}/upload.flac").parent.mkdir(parents=True, exist_ok=True)
    store.path(f"{sid}/upload.flac").write_bytes(b"fLaC audio bytes")
    async with session_scope() as db:
        db.add(SessionRecord(id=sid, therapist_id=user_id, status="processed", upload_ref=f"{sid}/upload.flac"))
        await db.commit()
    return sid


async def test_stream_tickets_are_single_use_and_scoped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with local_gateway(tmp_path, monkeypatch) as gw:
        token, user_id = await gw.token()
        other_token, other_id = await gw.token()
        mine, theirs = await _session(gw, user_id, "s-mine"), await _session(gw, other_id, "s-theirs")
        async with gw.client(token) as c:
            assert (await c.post("/api/auth/ticket", json={"session_id": theirs})).status_code == 404
            r = await c.post("/api/auth/ticket", json={"session_id": mine})
            assert r.status_code == 200 and r.json()["expires_in"] == 60
            ticket = r.json()["ticket"]
        async with gw.client() as anon:
            stream = f"/api/sessions/{mine}/status/stream"
            elsewhere = f"/api/sessions/{theirs}/status/stream"
            assert (await anon.get(elsewhere, params={"ticket": ticket})).status_code == 401
            assert (await anon.get(stream, params={"ticket": ticket}, headers=DONE)).status_code == 204
            assert (await anon.get(stream, params={"ticket": ticket}, headers=DONE)).status_code == 401  # spent
            assert (await anon.get(f"/api/sessions/{mine}/audio", params={"ticket": ticket})).status_code == 401
            # The bearer token itself no longer works in the URL.
            assert (await anon.get(stream, params={"token": token}, headers=DONE)).status_code == 401
            assert (await anon.get(f"/api/sessions/{mine}/audio", params={"token": token})).status_code == 401
        async with gw.client(other_token) as c:  # a ticket is no way into someone else's session either
            r = await c.post("/api/auth/ticket", json={"session_id": mine, "purpose": "audio"})
            assert r.status_code == 404


async def test_audio_tickets_serve_range_requests_until_logout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with local_gateway(tmp_path, monkeypatch) as gw:
        token, user_id = await gw.token()
        sid = await _session(gw, user_id, "s-audio")
        async with gw.client(token) as c:
            ticket = (await c.post("/api/auth/ticket", json={"session_id": sid, "purpose": "audio"})).json()["ticket"]
        async with gw.client() as anon:
            url = f"/api/sessions/{sid}/audio"
            for _ in range(2):  # the player asks again and again while it plays and seeks
                r = await anon.get(url, params={"ticket": ticket}, headers={"Range": "bytes=0-3"})
                assert r.status_code == 206 and r.content == b"fLaC"
        async with gw.client(token) as c:
            assert (await c.post("/api/auth/logout")).status_code == 204
        async with gw.client() as anon:
            assert (await anon.get(url, params={"ticket": ticket})).status_code == 401


async def test_query_token_only_when_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with local_gateway(tmp_path, monkeypatch, ALLOW_QUERY_TOKEN="true") as gw:
        token, user_id = await gw.token()
        sid = await _session(gw, user_id, "s-legacy")
        async with gw.client() as anon:
            assert (await anon.get(f"/api/sessions/{sid}/audio", params={"token": token})).status_code == 200


def test_the_web_app_puts_no_token_in_urls() -> None:
    from therapybridge.api.app import STATIC_DIR

    for script in STATIC_DIR.rglob("*.js"):
        assert "token=" not in script.read_text(), script.name
