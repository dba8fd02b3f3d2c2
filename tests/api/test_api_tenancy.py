"""A therapist sees only their own patients and sessions: another therapist's session answers 404 on
every endpoint (the same answer as a session that does not exist), WebSocket close 1008, SSE 404.
Admins list everyone's."""

from __future__ import annotations

import pytest

from tests.support.api import Account, Api, make_account, upload, wait_status, watch_sse, ws_close_code
from tests.support.harness import CORPUS

pytest_plugins = ["tests.support.api_fixtures"]

JFK = CORPUS / "real" / "jfk.flac"
MISSING = "00000000-0000-4000-8000-000000000000"
SESSION_ENDPOINTS = [
    ("GET", "/api/sessions/{id}"),
    ("GET", "/api/sessions/{id}/transcript.txt"),
    ("GET", "/api/sessions/{id}/transcript.srt"),
    ("GET", "/api/sessions/{id}/transcript.vtt"),
    ("GET", "/api/sessions/{id}/transcript.json"),
    ("GET", "/api/sessions/{id}/diarization.rttm"),
    ("GET", "/api/sessions/{id}/status/stream"),
    ("POST", "/api/sessions/{id}/cancel"),
    ("POST", "/api/sessions/{id}/retry"),
    ("DELETE", "/api/sessions/{id}"),
]


# A body every session endpoint accepts, so a refusal is about the session, not the request.
ANY_BODY = {"text": "x", "base_version": 1, "version": 1, "reason": "x", "decision": "dismissed", "speakers": []}


def session_endpoints() -> list[tuple[str, str]]:
    """Every route of the app under /api/sessions/{id}: one added later is checked without editing this."""
    from therapybridge.api.app import create_app

    out = []
    for path, operations in create_app().openapi()["paths"].items():
        if not path.startswith("/api/sessions/{session_id}"):
            continue
        path = path.replace("{session_id}", "{id}").replace("{flag_id}", "f0").replace("{kind}", "note")
        out += [(method.upper(), path) for method in sorted(operations)]
    assert set(SESSION_ENDPOINTS) <= set(out), "the app lost a session endpoint"
    return out


async def test_another_therapists_session_is_not_found_everywhere(
    api: Api, therapist: Account, other_therapist: Account, admin: Account
) -> None:
    sid = (await upload(api, therapist, JFK)).json()["id"]
    await wait_status(api, therapist, sid, {"processed"})
    async with api.client(other_therapist.token) as c:
        for method, path in session_endpoints():
            theirs = await c.request(method, path.format(id=sid), json=ANY_BODY)
            missing = await c.request(method, path.format(id=MISSING), json=ANY_BODY)
            assert theirs.status_code == 404, f"{method} {path}: {theirs.status_code}"
            assert theirs.json() == missing.json() == {"detail": "session not found"}  # indistinguishable
        listed = (await c.get("/api/sessions", params={"limit": 100})).json()["data"]
        assert sid not in {s["id"] for s in listed}
        assert (await c.get("/api/sessions", params={"patient_id": therapist.patient_id})).json()["data"] == []
        # Their patient too.
        assert (await c.get(f"/api/patients/{therapist.patient_id}")).status_code == 404
        assert therapist.patient_id not in {p["id"] for p in (await c.get("/api/patients")).json()["data"]}
    code, sent = await ws_close_code(api, sid, other_therapist.token)
    assert code == 1008 and sent == []
    status, _, _ = await watch_sse(api, sid, params={"token": other_therapist.token})
    assert status == 404

    # The owner still has it, untouched by all of the above (cancel, retry and delete included).
    async with api.client(therapist.token) as c:
        doc = (await c.get(f"/api/sessions/{sid}")).json()
        assert doc["status"] == "processed"
        assert (await c.get(f"/api/sessions/{sid}/transcript.txt")).status_code == 200
    # Admins list and read everyone's.
    async with api.client(admin.token) as c:
        listed = (await c.get("/api/sessions", params={"limit": 100})).json()["data"]
        assert sid in {s["id"] for s in listed}
        assert (await c.get(f"/api/sessions/{sid}")).status_code == 200
        patients = {p["id"] for p in (await c.get("/api/patients", params={"limit": 500})).json()["data"]}
        assert {therapist.patient_id, other_therapist.patient_id} <= patients


async def test_listing_filters_and_pages_newest_first(api: Api) -> None:
    who = await make_account(api)  # a fresh therapist: the list holds exactly these sessions
    ids = [(await upload(api, who, JFK)).json()["id"] for _ in range(3)]
    async with api.client(who.token) as c:
        page1 = (await c.get("/api/sessions", params={"limit": 2})).json()
        assert [s["id"] for s in page1["data"]] == ids[::-1][:2] and page1["next_cursor"]
        page2 = (await c.get("/api/sessions", params={"limit": 2, "cursor": page1["next_cursor"]})).json()
        assert [s["id"] for s in page2["data"]] == [ids[0]] and page2["next_cursor"] is None
        by_patient = (await c.get("/api/sessions", params={"patient_id": who.patient_id})).json()["data"]
        assert len(by_patient) == 3 and "transcript_segments" not in by_patient[0]  # summaries only
        for sid in ids:
            await wait_status(api, who, sid, {"processed"})
        assert len((await c.get("/api/sessions", params={"status": "processed"})).json()["data"]) == 3
        assert (await c.get("/api/sessions", params={"status": "failed"})).json()["data"] == []
        assert (await c.get("/api/sessions", params={"status": "bogus"})).status_code == 422
        assert (await c.get("/api/sessions", params={"cursor": "not-a-cursor"})).status_code == 400
        assert (await c.get("/api/sessions", params={"limit": 0})).status_code == 422


@pytest.mark.parametrize("role", ["therapist", "admin"])
async def test_upload_only_for_own_patients(api: Api, therapist: Account, role: str) -> None:
    who = await make_account(api, role=role)
    r = await upload(api, who, JFK, data={"patient_id": therapist.patient_id})
    assert r.status_code == 404
