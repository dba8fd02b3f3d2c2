"""GET /api/health: 200 only when the database, Temporal and a poller on each task queue answer."""

from __future__ import annotations

import httpx

from tests.support.api import Api
from tests.support.stack import Stack
from therapybridge.api.app import create_app

pytest_plugins = ["tests.support.api_fixtures"]


async def test_healthy_stack(api: Api) -> None:
    async with api.client() as c:
        r = await c.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["database"]["ok"] and body["temporal"]["ok"]
    assert set(body["task_queues"]) == {"therapybridge-io", "therapybridge-gpu"}
    assert all(q["ok"] for q in body["task_queues"].values())


async def _health(settings_update: dict[str, object], stack: Stack) -> httpx.Response:
    """The same app in this process, with one setting changed (ASGI transport, real services)."""
    app = create_app(stack.settings.model_copy(update=settings_update))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as c:
            return await c.get("/api/health")


async def test_a_queue_without_workers_is_503(stack: Stack) -> None:
    r = await _health({"gpu_task_queue": "nobody-polls-this"}, stack)
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unavailable" and body["temporal"]["ok"] and body["database"]["ok"]
    assert body["task_queues"]["nobody-polls-this"] == {"ok": False, "detail": "no worker is polling"}
    assert body["task_queues"]["therapybridge-io"]["ok"]


async def test_unreachable_temporal_is_503(stack: Stack) -> None:
    r = await _health({"temporal_address": "127.0.0.1:1"}, stack)
    assert r.status_code == 503
    body = r.json()
    assert body["database"]["ok"] and not body["temporal"]["ok"]
    assert not any(q["ok"] for q in body["task_queues"].values())
