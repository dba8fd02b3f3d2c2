"""Live progress over WebSocket and Server-Sent Events (both fed by api.live.ProgressHub).

Messages: {type: "progress", session_id, status, progress, message, updated_at,
estimated_time_remaining, error, waiting_since, final}; a message on every change, never going backwards; the final
message (processed, failed or cancelled) ends the stream. A client that connects after the end gets
the final state at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, WebSocket, WebSocketDisconnect, status
from fastapi.responses import Response, StreamingResponse

from therapybridge.api.deps import (
    SessionDep,
    SettingsDep,
    StreamUser,
    user_from_ticket,
    user_from_token,
    visible_session,
)
from therapybridge.api.live import ProgressHub, SessionGone, Snapshot, parse_event_id, snapshot_from_row
from therapybridge.api.metrics import STREAMS
from therapybridge.api.models import Message
from therapybridge.db import session_scope
from therapybridge.document import FINAL_STATUSES

router = APIRouter(prefix="/api/sessions", tags=["progress"])
POLICY_VIOLATION = 1008
PING = json.dumps({"type": "ping"})


async def _ticks(hub: ProgressHub, session_id: str, ping_s: float) -> AsyncIterator[Snapshot | None]:
    """Snapshots as they change, and None whenever `ping_s` passes (time for a keep-alive)."""
    loop = asyncio.get_running_loop()
    async with hub.subscribe(session_id) as sub:
        next_ping = loop.time() + ping_s
        while True:
            snap = await sub.next(max(0.0, next_ping - loop.time()))
            if snap is None or loop.time() >= next_ping:
                next_ping = loop.time() + ping_s
                yield None
            if snap is not None:
                yield snap
                if snap.final:
                    return


@router.websocket("/ws/{session_id}")
async def progress_ws(
    websocket: WebSocket,
    session_id: str,
    ticket: Annotated[str | None, Query(description="A stream ticket from POST /api/auth/ticket.")] = None,
    token: Annotated[str | None, Query(description="Deprecated: the access token (ALLOW_QUERY_TOKEN=true).")] = None,
) -> None:
    """WebSocket progress; `?ticket=` carries a single-use stream ticket. Close code 1008 for a bad
    ticket or a session that is not yours (or does not exist)."""
    await websocket.accept()
    settings = websocket.app.state.settings
    async with session_scope() as db:
        try:
            if ticket:
                user = await user_from_ticket(db, settings, ticket, session_id, "stream")
            else:
                user = await user_from_token(db, settings, token if settings.allow_query_token else None)
            await visible_session(db, user, session_id)
        except HTTPException as exc:
            await websocket.close(code=POLICY_VIOLATION, reason=str(exc.detail))
            return

    async def send() -> None:
        try:
            async for snap in _ticks(websocket.app.state.progress, session_id, settings.progress_ping_s):
                await websocket.send_text(PING if snap is None else json.dumps(snap.as_message()))
        except SessionGone:
            await websocket.close(code=POLICY_VIOLATION, reason="session not found")
            return
        await websocket.close(code=1000)

    async def receive() -> None:
        # Clients send nothing we need; reading is how a disconnect becomes visible.
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.receive_text()

    tasks = [asyncio.create_task(send()), asyncio.create_task(receive())]
    try:
        with STREAMS.labels("websocket").track_inprogress():
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _sse(event: str, snap: Snapshot) -> str:
    return f"event: {event}\nid: {snap.event_id}\ndata: {json.dumps(snap.as_message())}\n\n"


@router.get(
    "/{session_id}/status/stream",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "event: progress …, then complete or failed."},
        204: {"description": "Resumed (Last-Event-ID) after the final event: nothing more will come."},
        401: {"model": Message},
        404: {"model": Message},
    },
)
async def progress_sse(
    session_id: str,
    request: Request,
    user: StreamUser,
    db: SessionDep,
    settings: SettingsDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=40)] = None,
) -> Response:
    """Server-Sent Events: `event: progress` on every change, then `event: complete` (processed) or
    `event: failed` (failed or cancelled; see `status`). Keep-alive comments between. Resumes after
    `Last-Event-ID`. Auth by bearer header or `?ticket=` (EventSource cannot send headers)."""
    row = await visible_session(db, user, session_id)
    await db.close()  # no pooled connection held for the life of the stream
    resume = parse_event_id(last_event_id)
    if resume is not None and row.status in FINAL_STATUSES and resume >= snapshot_from_row(row).key:
        return Response(status_code=status.HTTP_204_NO_CONTENT)  # tells EventSource to stop reconnecting

    async def events() -> AsyncIterator[str]:
        with STREAMS.labels("sse").track_inprogress():
            async for chunk in _events():
                yield chunk

    async def _events() -> AsyncIterator[str]:
        yield "retry: 3000\n\n"
        try:
            async for snap in _ticks(request.app.state.progress, session_id, settings.progress_ping_s):
                if snap is None:
                    yield ": keep-alive\n\n"
                elif snap.final:
                    yield _sse("complete" if snap.status == "processed" else "failed", snap)
                elif resume is None or snap.key > resume:
                    yield _sse("progress", snap)
        except SessionGone:
            return  # deleted: the reconnect gets 404 and EventSource gives up

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
