"""Tickets: what a URL carries instead of the bearer token where the client cannot send headers
(EventSource, WebSocket, <audio>). A ticket is signed, names one session and one purpose, belongs to a
live sign-in, and is short-lived: a stream ticket lives TICKET_SECONDS and opens one stream (single
use); an audio ticket lives as long as an access token (the player makes many Range requests while
it plays). A ticket in a reverse proxy's access log opens nothing else, and soon nothing at all.

Single use is remembered by the gateway process that saw the ticket (a 60 s window); with several
gateway instances behind a balancer a ticket could open one stream per instance within that minute.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt

from therapybridge.core.security import ALGORITHM, signing_key
from therapybridge.settings import Settings

Purpose = Literal["stream", "audio"]
TICKET_SECONDS = 60


class InvalidTicket(Exception):
    pass


def issue(settings: Settings, user_id: str, sid: str, session_id: str, purpose: Purpose) -> tuple[str, int]:
    lifetime = TICKET_SECONDS if purpose == "stream" else settings.access_token_minutes * 60
    now = datetime.now(UTC)
    claims = {
        "sub": user_id, "sid": sid, "type": "ticket", "scope": f"{purpose}:{session_id}",
        "iat": now, "exp": now + timedelta(seconds=lifetime), "jti": uuid.uuid4().hex,
    }  # fmt: skip
    return jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM), lifetime


class _Spent:
    """jtis of stream tickets already used, until they would have expired anyway."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def claim(self, jti: str, expires: float) -> bool:
        now = time.time()
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: v for k, v in self._seen.items() if v > now}
            if jti in self._seen:
                return False
            self._seen[jti] = expires
            return True


_spent = _Spent()


def redeem(settings: Settings, ticket: str, session_id: str, purpose: Purpose) -> tuple[str, str]:
    """(user id, sign-in id) of a valid ticket for this session and purpose; a stream ticket is spent."""
    try:
        claims = jwt.decode(
            ticket,
            signing_key(settings),
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub", "sid", "type", "scope", "jti"]},
        )
    except jwt.PyJWTError:
        raise InvalidTicket() from None
    if claims.get("type") != "ticket" or claims.get("scope") != f"{purpose}:{session_id}":
        raise InvalidTicket()
    if purpose == "stream" and not _spent.claim(str(claims["jti"]), float(claims["exp"])):
        raise InvalidTicket()
    return str(claims["sub"]), str(claims["sid"])
