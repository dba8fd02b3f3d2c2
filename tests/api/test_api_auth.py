"""Authentication: OAuth2 password flow, refresh, and 401 for every endpoint without a valid token."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy import update
from sqlmodel import col

from tests.support.api import TOKEN_MINUTES, Account, Api, make_account, ws_close_code
from therapybridge.core.security import ALGORITHM, signing_key
from therapybridge.db import User, session_scope
from therapybridge.settings import get_settings

pytest_plugins = ["tests.support.api_fixtures"]

# Token issuance (the refresh token in the body is the credential there) and health.
PUBLIC = {("POST", "/api/auth/token"), ("POST", "/api/auth/refresh"), ("GET", "/api/health")}


async def test_password_login_and_refresh(api: Api, therapist: Account) -> None:
    async with api.client() as c:
        r = await c.post("/api/auth/token", data={"username": therapist.email.upper(), "password": therapist.password})
        assert r.status_code == 200
        tokens = r.json()
        assert tokens["token_type"] == "bearer" and tokens["expires_in"] == TOKEN_MINUTES * 60
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        assert claims["sub"] == therapist.user_id and claims["exp"] - claims["iat"] == TOKEN_MINUTES * 60
        refresh_claims = jwt.decode(tokens["refresh_token"], options={"verify_signature": False})
        assert refresh_claims["exp"] - refresh_claims["iat"] == 7 * 24 * 3600

        me = await c.get("/api/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert me.status_code == 200 and me.json() == {
            "id": therapist.user_id,
            "email": therapist.email,
            "role": "therapist",
        }
        r = await c.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert r.status_code == 200
        fresh = r.json()["access_token"]
        assert (await c.get("/api/auth/me", headers={"Authorization": f"Bearer {fresh}"})).status_code == 200

        # Each token only does its own job.
        assert (await c.post("/api/auth/refresh", json={"refresh_token": tokens["access_token"]})).status_code == 401
        r = await c.get("/api/auth/me", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
        assert r.status_code == 401

        for username, password in ((therapist.email, "wrong-password"), ("nobody@example.com", "whatever1")):
            r = await c.post("/api/auth/token", data={"username": username, "password": password})
            assert r.status_code == 401 and r.json()["detail"] == "incorrect email or password"
            assert r.headers["www-authenticate"] == "Bearer"


def _forge(sub: str, **claims: object) -> str:
    now = datetime.now(UTC)
    body = {"sub": sub, "type": "access", "iat": now, "exp": now + timedelta(minutes=5), **claims}
    return jwt.encode(body, signing_key(get_settings()), algorithm=ALGORITHM)


def _tamper(token: str) -> str:
    head, payload, sig = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{head}.{forged}.{sig}"


async def test_expired_tampered_and_foreign_tokens_are_401(api: Api, therapist: Account) -> None:
    expired = _forge(
        therapist.user_id, iat=datetime.now(UTC) - timedelta(hours=1), exp=datetime.now(UTC) - timedelta(minutes=1)
    )
    other_key = jwt.encode(
        {"sub": therapist.user_id, "type": "access", "exp": datetime.now(UTC) + timedelta(minutes=5)},
        "not-our-key-" * 4,
        algorithm=ALGORITHM,
    )
    unsigned = jwt.encode(
        {"sub": therapist.user_id, "type": "access", "exp": datetime.now(UTC) + timedelta(minutes=5)},
        None,
        algorithm="none",
    )
    # The control: a well-made token of a live sign-in works.
    live = jwt.decode(therapist.token, options={"verify_signature": False})
    control = _forge(therapist.user_id, sid=live["sid"], jti="control")
    async with api.client() as c:
        assert (await c.get("/api/auth/me", headers={"Authorization": f"Bearer {control}"})).status_code == 200
        for bad in (expired, _tamper(therapist.token), other_key, unsigned, _forge("no-such-user"), "garbage"):
            r = await c.get("/api/sessions", headers={"Authorization": f"Bearer {bad}"})
            assert r.status_code == 401, bad
            assert (await ws_close_code(api, "x", bad))[0] == 1008


async def test_every_endpoint_but_login_and_health_needs_a_token(api: Api) -> None:
    async with api.client() as c:
        schema = (await c.get("/openapi.json")).json()
        checked = 0
        for path, methods in schema["paths"].items():
            for method in methods:
                if (method.upper(), path) in PUBLIC:
                    continue
                url = path.replace("{session_id}", "abc").replace("{patient_id}", "abc")
                r = await c.request(method.upper(), url)
                assert r.status_code == 401, f"{method.upper()} {path} answered {r.status_code} without a token"
                checked += 1
        assert checked >= 17
        assert (await c.get("/api/health")).status_code == 200
    assert (await ws_close_code(api, "abc", ""))[0] == 1008


async def test_deactivated_user_is_locked_out(api: Api) -> None:
    who = await make_account(api)
    async with session_scope() as db:
        await db.exec(update(User).where(col(User.id) == who.user_id).values(is_active=False))
        await db.commit()
    async with api.client() as c:
        assert (await c.get("/api/patients", headers=who.headers)).status_code == 401
        r = await c.post("/api/auth/token", data={"username": who.email, "password": who.password})
        assert r.status_code == 401
