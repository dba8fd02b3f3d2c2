"""The FastAPI gateway. Stateless: Temporal and the database hold all state, so any number of
instances can serve any request (`uvicorn --factory therapybridge.api.app:create_app`, or
`therapybridge serve`)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from therapybridge.api.deps import TemporalConnection, TemporalUnavailable
from therapybridge.api.headers import SecurityHeaders
from therapybridge.api.limits import BodyLimit, validation_error
from therapybridge.api.live import ProgressHub
from therapybridge.api.metrics import observe_request
from therapybridge.api.metrics import router as metrics_router
from therapybridge.api.monitor import SessionMonitor
from therapybridge.api.routes import (
    audit,
    auth,
    codec,
    config,
    control,
    exports,
    health,
    patients,
    progress,
    review,
    sessions,
    signoff,
    transcript,
)
from therapybridge.db import init_db
from therapybridge.settings import Settings, get_settings

log = logging.getLogger("therapybridge.api")
STATIC_DIR = Path(__file__).parent / "static"


class PathCORS:
    """CORS for one path prefix only (the codec endpoints the Temporal UI calls from its origin);
    the rest of the API stays same-origin."""

    def __init__(self, app: ASGIApp, prefix: str, origin: str) -> None:
        self.app, self.prefix = app, prefix
        self.cors = CORSMiddleware(
            app,
            allow_origins=[origin],
            allow_methods=["POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Namespace"],
            allow_credentials=True,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class AccessLog:
    """One log line per request: method, route template, status, time. Never the query string (it can
    carry a token) nor anything from the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        code = 0

        async def sending(message: Message) -> None:
            nonlocal code
            if message["type"] == "http.response.start":
                code = message["status"]
            elif message["type"] == "websocket.close" and not code:
                code = message.get("code", 1000)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            # Type only: exception messages can carry patient data. Answer 500 if nothing was sent.
            log.error("request failed", extra={"path": _route(scope), "error_type": type(exc).__name__})
            if scope["type"] == "http" and not code:
                code = 500
                await send(
                    {"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"application/json")]}
                )
                await send({"type": "http.response.body", "body": b'{"detail":"internal error"}'})
        finally:
            seconds = time.perf_counter() - t0
            method, route = scope.get("method", "WS"), _route(scope)
            observe_request(method, route, code, seconds)
            log.info("request", extra={"method": method, "path": route, "status": code, "ms": round(seconds * 1000, 1)})


class RedactTokens(logging.Filter):
    """uvicorn logs each WebSocket handshake with its query string, where `?token=` carries a JWT."""

    _token = re.compile(r"([?&]token=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(self._token.sub(r"\1[redacted]", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = self._token.sub(r"\1[redacted]", record.msg)
        return True


def _route(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    server_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, RedactTokens) for f in server_log.filters):
        server_log.addFilter(RedactTokens())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await init_db()
        app.state.temporal = TemporalConnection(settings)
        app.state.monitor = SessionMonitor(settings, app.state.temporal)
        app.state.progress = ProgressHub(settings, app.state.temporal, app.state.monitor.stall_of)
        app.state.monitor.start()
        app.state.background = set()
        try:
            await app.state.temporal.get()
        except TemporalUnavailable:
            log.warning("Temporal is not reachable yet; the gateway will connect on first use")
        yield
        await app.state.monitor.stop()
        await app.state.progress.close()
        for task in app.state.background:
            task.cancel()
        await asyncio.gather(*app.state.background, return_exceptions=True)

    app = FastAPI(
        title="TherapyBridge API",
        version="0.1.0",
        summary="Upload therapy session recordings; follow their processing; read transcripts, notes and flags.",
        lifespan=lifespan,
        docs_url="/docs" if settings.api_docs else None,
        redoc_url="/redoc" if settings.api_docs else None,
    )
    app.state.settings = settings
    app.dependency_overrides[get_settings] = lambda: settings  # one Settings for the whole app
    for module in (
        auth,
        patients,
        sessions,
        control,
        progress,
        exports,
        review,
        transcript,
        signoff,
        health,
        codec,
        audit,
        config,
    ):
        app.include_router(module.router)
    app.include_router(review.me)
    app.include_router(metrics_router)
    if STATIC_DIR.is_dir():
        # The web app; mounted last so every API route wins.
        app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="static")
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_middleware(PathCORS, prefix="/codec", origin=settings.temporal_ui_origin)
    app.add_middleware(BodyLimit, settings=settings)  # outside everything but the log: before any auth
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog)
    if settings.forwarded_allow_ips:
        # Outermost: the client address (sign-in throttling) and the scheme (Secure cookie, HSTS) of
        # everything inside come from X-Forwarded-For/-Proto, but only when a trusted proxy sent them.
        hosts = [h.strip() for h in settings.forwarded_allow_ips.split(",") if h.strip()]
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=hosts)
    return app
