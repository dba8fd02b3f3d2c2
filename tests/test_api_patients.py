"""Patients: a therapist creates and reads their own; nobody else's."""

from __future__ import annotations

from tests.api_helpers import Account, Api, make_account

pytest_plugins = ["tests.api_fixtures"]


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
