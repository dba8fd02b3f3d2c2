"""The codec server the Temporal UI and CLI call: decrypts real workflow history payloads for admins,
CORS only for the Temporal UI's origin, nobody else may use it."""

from __future__ import annotations

import base64
import json

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import EventType

from tests.support.api import Account, Api, upload, wait_status
from tests.support.harness import CORPUS
from tests.support.stack import Stack
from therapybridge.temporal import workflow_id

pytest_plugins = ["tests.support.api_fixtures"]


async def test_decodes_workflow_history_for_admins_only(
    api: Api, therapist: Account, admin: Account, stack: Stack
) -> None:
    sid = (await upload(api, therapist, CORPUS / "real" / "jfk.flac")).json()["id"]
    await wait_status(api, therapist, sid, {"processed"})
    history = await stack.client.get_workflow_handle(workflow_id(sid)).fetch_history()
    started = next(e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
    encrypted = started.workflow_execution_started_event_attributes.input
    assert encrypted.payloads[0].metadata["encoding"] == b"binary/encrypted"
    body = json_format.MessageToJson(encrypted)

    async with api.client(admin.token) as c:
        r = await c.post("/codec/decode", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 200
        decoded = json_format.Parse(r.text, Payloads()).payloads
        assert decoded[0].metadata["encoding"] == b"json/plain"
        assert json.loads(decoded[0].data)["session_id"] == sid

        # encode → decode is the identity; the ciphertext is not the plaintext.
        plain = {
            "payloads": [
                {
                    "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
                    "data": base64.b64encode(b'{"x": 1}').decode(),
                }
            ]
        }
        enc = await c.post("/codec/encode", json=plain)
        assert enc.status_code == 200 and base64.b64encode(b'{"x": 1}').decode() not in enc.text
        back = await c.post("/codec/decode", content=enc.text, headers={"content-type": "application/json"})
        assert json_format.Parse(back.text, Payloads()).payloads[0].data == b'{"x": 1}'
        assert (await c.post("/codec/decode", content=b"{nonsense")).status_code == 400

    async with api.client(therapist.token) as c:
        assert (await c.post("/codec/decode", content=body)).status_code == 403
    async with api.client() as c:
        assert (await c.post("/codec/decode", content=body)).status_code == 401


async def test_cors_only_for_the_temporal_ui(api: Api, stack: Stack) -> None:
    ui = stack.settings.temporal_ui_origin
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    async with api.client() as c:
        r = await c.options("/codec/decode", headers={"Origin": ui, **preflight})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == ui
        r = await c.options("/codec/decode", headers={"Origin": "https://evil.example", **preflight})
        assert r.status_code == 400 and "access-control-allow-origin" not in r.headers
        # The rest of the API is same-origin only, even for the UI's origin.
        r = await c.get("/api/health", headers={"Origin": ui})
        assert "access-control-allow-origin" not in r.headers


async def test_an_admin_sign_in_lets_the_temporal_ui_decode_by_cookie(
    api: Api, therapist: Account, admin: Account, stack: Stack
) -> None:
    """The Temporal UI sends cookies, not our bearer token: an administrator's web sign-in sets an
    HttpOnly cookie only /codec receives; refresh renews it, sign-out removes it, nobody else gets one."""
    ui = stack.settings.temporal_ui_origin
    plain = {"payloads": [{"metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
                           "data": base64.b64encode(b'{"x": 1}').decode()}]}  # fmt: skip
    async with api.client(admin.token) as c:
        encrypted = (await c.post("/codec/encode", json=plain)).text
    decode = {"content": encrypted, "headers": {"content-type": "application/json", "Origin": ui}}

    async with api.client() as browser:  # no Authorization header: only what the cookie jar holds
        signed_in = await browser.post("/api/auth/token", data={"username": admin.email, "password": admin.password})
        set_cookie = signed_in.headers["set-cookie"].lower()
        assert set_cookie.startswith("tb_codec=") and "httponly" in set_cookie
        assert "path=/codec" in set_cookie and "samesite=strict" in set_cookie and "max-age=" in set_cookie
        r = await browser.post("/codec/decode", **decode)
        assert r.status_code == 200, r.text
        assert json_format.Parse(r.text, Payloads()).payloads[0].data == b'{"x": 1}'
        assert r.headers["access-control-allow-origin"] == ui
        assert r.headers["access-control-allow-credentials"] == "true"
        assert (await browser.get("/api/patients")).status_code == 401  # the cookie opens /codec only

        tokens = signed_in.json()
        renewed = await browser.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert renewed.status_code == 200 and renewed.headers["set-cookie"].lower().startswith("tb_codec=")
        out = await browser.post("/api/auth/logout", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert out.status_code == 204
        assert (await browser.post("/codec/decode", **decode)).status_code == 401

    async with api.client() as browser:
        r = await browser.post("/api/auth/token", data={"username": therapist.email, "password": therapist.password})
        assert r.status_code == 200 and not browser.cookies.get("tb_codec")
        assert (await browser.post("/codec/decode", **decode)).status_code == 401
        # A therapist's token in the cookie is still a therapist's.
        forged = {**decode["headers"], "Cookie": f"tb_codec={therapist.token}"}
        assert (await browser.post("/codec/decode", content=encrypted, headers=forged)).status_code == 403
