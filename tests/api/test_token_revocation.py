"""Issue 13, defect 3: tokens can be revoked. Refresh tokens rotate and a reused one revokes its whole
family; logout revokes; a password change or disabling the user ends every sign-in."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import jwt
import pytest
from alembic.script import ScriptDirectory

from tests.support.gateway import Gateway, local_gateway
from therapybridge import auth_sessions
from therapybridge.db import alembic_config
from therapybridge.users import set_active, set_password


async def _sign_in(gw: Gateway, email: str, password: str) -> dict[str, str]:
    r = await gw.login(email, password)
    assert r.status_code == 200, r.text
    return r.json()


async def _me(gw: Gateway, access: str) -> int:
    async with gw.client(access) as c:
        return (await c.get("/api/auth/me")).status_code


async def _refresh(gw: Gateway, refresh: str) -> tuple[int, dict[str, str]]:
    async with gw.client() as c:
        r = await c.post("/api/auth/refresh", json={"refresh_token": refresh})
        return r.status_code, r.json()


async def test_refresh_rotates_and_reuse_revokes_the_family(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with local_gateway(tmp_path, monkeypatch) as gw:
        email, password, _ = await gw.account()
        first = await _sign_in(gw, email, password)
        code, second = await _refresh(gw, first["refresh_token"])
        assert code == 200 and second["refresh_token"] != first["refresh_token"]
        assert _claims(second["refresh_token"])["sid"] == _claims(first["refresh_token"])["sid"]
        code, third = await _refresh(gw, second["refresh_token"])
        assert code == 200
        assert await _me(gw, third["access_token"]) == 200

        # Long after its rotation, the first refresh token shows up again: a copy. The family ends.
        monkeypatch.setattr(auth_sessions, "REUSE_GRACE_S", 0.0)
        assert (await _refresh(gw, first["refresh_token"]))[0] == 401
        assert (await _refresh(gw, third["refresh_token"]))[0] == 401  # the legitimate holder is out too
        assert await _me(gw, third["access_token"]) == 401
        assert await _me(gw, (await _sign_in(gw, email, password))["access_token"]) == 200  # a new sign-in works


async def test_a_racing_refresh_within_the_grace_does_not_revoke(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth_sessions, "REUSE_GRACE_S", 3600.0)
    async with local_gateway(tmp_path, monkeypatch) as gw:
        email, password, _ = await gw.account()
        first = await _sign_in(gw, email, password)
        code, second = await _refresh(gw, first["refresh_token"])
        assert code == 200
        assert (await _refresh(gw, first["refresh_token"]))[0] == 401  # spent, but two tabs racing is no theft
        assert (await _refresh(gw, second["refresh_token"]))[0] == 200


async def test_logout_revokes_access_and_refresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with local_gateway(tmp_path, monkeypatch) as gw:
        email, password, _ = await gw.account()
        mine, other_device = await _sign_in(gw, email, password), await _sign_in(gw, email, password)
        async with gw.client(mine["access_token"]) as c:
            assert (await c.post("/api/auth/logout")).status_code == 204
        assert await _me(gw, mine["access_token"]) == 401
        assert (await _refresh(gw, mine["refresh_token"]))[0] == 401
        assert await _me(gw, other_device["access_token"]) == 200  # only this sign-in ended


async def test_password_change_and_disabling_end_every_sign_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with local_gateway(tmp_path, monkeypatch) as gw:
        email, password, _ = await gw.account()
        a, b = await _sign_in(gw, email, password), await _sign_in(gw, email, password)
        await set_password(email, "a-brand-new-passphrase")
        for tokens in (a, b):
            assert await _me(gw, tokens["access_token"]) == 401
            assert (await _refresh(gw, tokens["refresh_token"]))[0] == 401
        assert (await gw.login(email, password)).status_code == 401
        c = await _sign_in(gw, email, "a-brand-new-passphrase")
        assert await _me(gw, c["access_token"]) == 200

        await set_active(email, False)
        assert await _me(gw, c["access_token"]) == 401
        await set_active(email, True)
        assert await _me(gw, c["access_token"]) == 401  # enabling again does not bring old sign-ins back
        assert (await _refresh(gw, c["refresh_token"]))[0] == 401


async def test_tokens_without_a_sign_in_session_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime, timedelta

    from therapybridge.core.security import ALGORITHM, signing_key

    async with local_gateway(tmp_path, monkeypatch) as gw:
        _, user_id = await gw.token()
        now = datetime.now(UTC)
        old_style = jwt.encode(
            {"sub": user_id, "type": "access", "iat": now, "exp": now + timedelta(minutes=5), "jti": "x"},
            signing_key(gw.settings),
            algorithm=ALGORITHM,
        )  # what the gateway issued before sign-in sessions existed
        assert await _me(gw, old_style) == 401


def test_migration_0006_creates_auth_sessions(tmp_path: Path) -> None:
    from alembic import command

    assert "0006" in {r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    db = tmp_path / "m.db"
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        cfg = alembic_config(conn)
        command.upgrade(cfg, "head")
        command.downgrade(cfg, "0005")
        command.upgrade(cfg, "head")
    with sqlite3.connect(db) as conn:
        cols = {row[1] for row in conn.execute("PRAGMA table_info(auth_sessions)")}
    assert {"id", "user_id", "refresh_jti", "previous_jti", "expires_at", "revoked_at", "revoked_reason"} <= cols


def _claims(token: str) -> dict[str, str]:
    return jwt.decode(token, options={"verify_signature": False})
