"""Patients: a therapist creates and reads their own; nobody else's."""

from __future__ import annotations

from tests.support.api import Account, Api, make_account

pytest_plugins = ["tests.support.api_fixtures"]


async def test_create_list_and_read_own_patients(api: Api) -> None:
    who, other = await make_account(api), await make_account(api)
    async with api.client(who.token) as c:
        r = await c.post(
            "/api/patients", json={"name": "Ada Example", "date_of_birth": "1984-02-29", "external_id": "MRN-1"}
        )
        assert r.status_code == 201
        created = r.json()
        assert created["therapist_id"] == who.user_id and created["date_of_birth"] == "1984-02-29"
        assert (await c.get(f"/api/patients/{created['id']}")).json() == created
        listed = (await c.get("/api/patients")).json()
        assert listed["count"] == 2 and {p["id"] for p in listed["data"]} == {who.patient_id, created["id"]}
        page = (await c.get("/api/patients", params={"limit": 1, "offset": 1})).json()
        assert page["count"] == 2 and len(page["data"]) == 1

        for bad in ({}, {"name": ""}, {"name": "x" * 201}, {"name": "A", "date_of_birth": "1984-02-30"}):
            assert (await c.post("/api/patients", json=bad)).status_code == 422, bad
    async with api.client(other.token) as c:
        assert (await c.get(f"/api/patients/{created['id']}")).status_code == 404
        assert created["id"] not in {p["id"] for p in (await c.get("/api/patients")).json()["data"]}


async def test_admin_lists_every_patient(api: Api, therapist: Account, admin: Account) -> None:
    async with api.client(admin.token) as c:
        ids = {p["id"] for p in (await c.get("/api/patients", params={"limit": 500})).json()["data"]}
        assert therapist.patient_id in ids
        assert (await c.get(f"/api/patients/{therapist.patient_id}")).status_code == 200


async def test_edit_and_delete_a_patient(api: Api) -> None:
    """Edit changes only the fields sent; delete refuses while the patient has sessions (deleting those
    is its own, explicit act) and then deletes for good; nobody else can do either."""
    import uuid

    from therapybridge import db
    from therapybridge.document import SessionDocument

    who, other = await make_account(api), await make_account(api)
    async with api.client(who.token) as c:
        created = (await c.post("/api/patients", json={"name": "Ada Example", "external_id": "MRN-1"})).json()
        pid = created["id"]
        r = await c.patch(f"/api/patients/{pid}", json={"name": "Ada Lovelace", "date_of_birth": "1984-02-29"})
        assert r.status_code == 200, r.text
        assert r.json() == {**created, "name": "Ada Lovelace", "date_of_birth": "1984-02-29"}
        assert (await c.patch(f"/api/patients/{pid}", json={"external_id": None})).json()["external_id"] is None
        for bad in ({"name": ""}, {"name": None}, {"date_of_birth": "1984-02-30"}):
            assert (await c.patch(f"/api/patients/{pid}", json=bad)).status_code == 422, bad

        sid = str(uuid.uuid4())
        await db.upsert_session(SessionDocument(id=sid, patient_id=pid, therapist_id=who.user_id, status="failed"))
        r = await c.delete(f"/api/patients/{pid}")
        assert r.status_code == 409 and "1 session" in r.json()["detail"]
        async with api.client(other.token) as o:
            assert (await o.patch(f"/api/patients/{pid}", json={"name": "X"})).status_code == 404
            assert (await o.delete(f"/api/patients/{pid}")).status_code == 404
        assert (await c.delete(f"/api/sessions/{sid}")).status_code == 204
        assert (await c.delete(f"/api/patients/{pid}")).status_code == 204
        assert (await c.get(f"/api/patients/{pid}")).status_code == 404
        assert (await c.delete(f"/api/patients/{pid}")).status_code == 404
