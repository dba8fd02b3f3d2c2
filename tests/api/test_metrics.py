"""GET /metrics on the gateway: off without METRICS_TOKEN, bearer-token auth, route templates (never ids)
as labels, session outcomes and breaker states from the database. The workers' SDK metrics and the
Temporal server's are scraped on the real cluster (tests/deploy/cluster/test_metrics_scrape.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.stack import Stack
from therapybridge.api.app import create_app

TOKEN = "scrape-" + uuid.uuid4().hex


@asynccontextmanager
async def gateway(stack: Stack, **update: object) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(stack.settings.model_copy(update=update))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as c:
            yield c


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [(s.name, s.labels, s.value) for f in text_string_to_metric_families(text) for s in f.samples]


async def test_metrics_are_off_without_a_token(stack: Stack) -> None:
    async with gateway(stack, metrics_token="") as c:
        assert (await c.get("/metrics")).status_code == 404


async def test_metrics_need_the_token(stack: Stack) -> None:
    async with gateway(stack, metrics_token=TOKEN) as c:
        assert (await c.get("/metrics")).status_code == 401
        assert (await c.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401


async def test_metrics_label_routes_not_ids(stack: Stack) -> None:
    session_id = str(uuid.uuid4())
    async with gateway(stack, metrics_token=TOKEN) as c:
        assert (await c.get(f"/api/sessions/{session_id}")).status_code == 401  # no sign-in: still counted
        r = await c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200
    assert session_id not in r.text
    async with gateway(stack, metrics_token=TOKEN) as c:
        await c.request("BREW", "/nowhere")  # an invented method is counted as `other`
        r = await c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert "BREW" not in r.text
    found = samples(r.text)
    requests = {
        (lb["method"], lb["route"], lb["status"]) for n, lb, _ in found if n == "therapybridge_http_requests_total"
    }
    assert ("GET", "/api/sessions/{session_id}", "401") in requests
    assert any(n == "therapybridge_http_request_duration_seconds_count" for n, _, _ in found)
    # Every status has a sample (0 or more), and each breaker is in exactly one state.
    statuses = {lb["status"] for n, lb, _ in found if n == "therapybridge_sessions"}
    assert {"processed", "failed", "cancelled", "queued"} <= statuses
    breakers = [(lb["service"], v) for n, lb, v in found if n == "therapybridge_breaker_state"]
    assert {s for s, _ in breakers} == {"transcription", "diarization"}
    for service in ("transcription", "diarization"):
        assert sum(v for s, v in breakers if s == service) == 1
