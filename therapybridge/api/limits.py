"""Request body caps by route, enforced before routing and authentication: a declared Content-Length
over the cap is refused without reading a byte, and a chunked body is counted as it arrives and cut
off at the cap. And validation errors that never echo what the client sent."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from therapybridge.settings import Settings

KiB, MiB = 1024, 1024 * 1024
UPLOAD_PATH = "/api/sessions/upload"
MULTIPART_SLACK = MiB  # room for the form fields and part headers around the file
CODEC_BODY = 8 * MiB  # a page of encoded Temporal payloads
AUTH_BODY = 16 * KiB  # a login form or a refresh token


class BodyTooLarge(HTTPException):
    """Raised from `receive`: FastAPI re-raises HTTPExceptions met while reading a body, so it answers 413."""

    def __init__(self, cap: int, detail: str | None = None) -> None:
        super().__init__(413, detail=detail or f"the request body is larger than {_size(cap)}")


def _size(n: int) -> str:
    return f"{n // MiB} MB" if n >= MiB else f"{n // KiB} KB"


def body_cap(settings: Settings, path: str) -> int:
    if path == UPLOAD_PATH:
        return settings.max_upload_size_mb * MiB + MULTIPART_SLACK
    if path.startswith("/codec/"):
        return CODEC_BODY
    if path.startswith("/api/auth/"):
        return AUTH_BODY
    return settings.max_request_body_kb * KiB


class BodyLimit:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = body_cap(self.settings, scope["path"])
        # The upload route says it in the terms of its own setting.
        upload = scope["path"] == UPLOAD_PATH
        detail = f"the file is larger than {self.settings.max_upload_size_mb} MB" if upload else None
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > cap:
            await _refuse(send, BodyTooLarge(cap, detail))
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise BodyTooLarge(cap, detail)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:
            if not started:
                await _refuse(send, exc)


async def _refuse(send: Send, exc: BodyTooLarge) -> None:
    body = json.dumps({"detail": exc.detail}).encode()
    # Connection: close: the unread rest of the body is not worth draining.
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]  # fmt: skip
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _safe_error(error: dict[str, Any]) -> dict[str, Any]:
    # `input` is what the client sent (a 5 MB body echoed back; a password in a form); `ctx` can hold
    # it too (a pattern's match target). Keep where and what kind.
    return {k: v for k, v in error.items() if k in ("type", "loc", "msg")}


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return JSONResponse(status_code=422, content={"detail": [_safe_error(dict(e)) for e in errors]})
