"""Prometheus metrics of the API gateway, served at GET /metrics.

Labels never carry PHI: a request is labelled by its method, route template (`/api/sessions/{session_id}`,
never the id) and status code; sessions are counted by status only. Request metrics are this process's;
the session and breaker gauges are read from the database at scrape time, so every gateway instance
reports the same cluster-wide figures (aggregate them with max, not sum).

/metrics needs `Authorization: Bearer <METRICS_TOKEN>` (Prometheus' `authorization` scrape option): the
gateway is the one process that faces the network, and a bind rule cannot protect one route of a port
that also serves the app. With no METRICS_TOKEN set the route answers 404.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, status
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func
from sqlmodel import select

from therapybridge import breaker
from therapybridge.db import SessionRecord, session_scope
from therapybridge.document import Status

STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]
BREAKER_STATES = ("closed", "half_open", "open")

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "therapybridge_http_requests", "HTTP requests and WebSocket sessions handled.",
    ["method", "route", "status"], registry=REGISTRY,
)  # fmt: skip
LATENCY = Histogram(
    "therapybridge_http_request_duration_seconds", "Time to answer a request (a stream: its whole life).",
    ["method", "route"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)  # fmt: skip
STREAMS = Gauge("therapybridge_progress_streams_active", "Progress streams open now.", ["kind"], registry=REGISTRY)
SESSIONS = Gauge(
    "therapybridge_sessions", "Sessions in the database by status (failed/processed/cancelled: outcomes).",
    ["status"], registry=REGISTRY,
)  # fmt: skip
BREAKER = Gauge(
    "therapybridge_breaker_state", "A provider breaker's state: 1 for the current one, 0 for the others.",
    ["service", "state"], registry=REGISTRY,
)  # fmt: skip

for _kind in ("websocket", "sse"):
    STREAMS.labels(_kind)  # a 0 sample from the start, not a missing series

router = APIRouter(tags=["metrics"])


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "WS"})


def observe_request(method: str, route: str, code: int, seconds: float) -> None:
    # Any token is a valid HTTP method: a client inventing them must not grow the label set.
    method = method if method in METHODS else "other"
    REQUESTS.labels(method, route, str(code)).inc()
    LATENCY.labels(method, route).observe(seconds)


async def _refresh_from_database() -> None:
    async with session_scope() as db:
        rows = (await db.exec(select(SessionRecord.status, func.count()).group_by(SessionRecord.status))).all()
    counts = dict.fromkeys(STATUSES, 0) | {str(s): int(n) for s, n in rows}
    for name, n in counts.items():
        SESSIONS.labels(name).set(n)
    for current in await breaker.states():
        for state in BREAKER_STATES:
            BREAKER.labels(current.service, state).set(1 if current.state == state else 0)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, authorization: Annotated[str | None, Header()] = None) -> Response:
    token = request.app.state.settings.metrics_token
    if not token:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "bad metrics token", {"WWW-Authenticate": "Bearer"})
    await _refresh_from_database()
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
