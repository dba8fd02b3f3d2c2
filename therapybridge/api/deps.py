"""FastAPI dependencies: database session, settings, the current user, Temporal, the blob store, and
the one rule of tenancy (a session or patient someone may not see does not exist for them: 404)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import Cookie, Depends, HTTPException, Query, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from therapybridge.api import tickets
from therapybridge.auth_sessions import is_live
from therapybridge.blobs import BlobStore
from therapybridge.core.security import InvalidToken, TokenClaims, decode_token
from therapybridge.db import Patient, SessionRecord, User, session_scope
from therapybridge.settings import Settings, get_settings
from therapybridge.temporal import connect

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def get_db() -> AsyncIterator[AsyncSession]:
    async with session_scope() as db:
        yield db


SessionDep = Annotated[AsyncSession, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def unauthorized(detail: str = "not authenticated") -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


async def claims_and_user(db: AsyncSession, settings: Settings, token: str | None) -> tuple[TokenClaims, User]:
    """An access token's claims and its active user; 401 for a missing, expired, tampered or revoked
    token (its sign-in session logged out, or ended by a password change or by disabling the user)."""
    if not token:
        raise unauthorized()
    try:
        claims = decode_token(settings, token, "access")
    except InvalidToken:
        raise unauthorized("invalid or expired token") from None
    user = await db.get(User, claims.user_id)
    if user is None or not user.is_active or not await is_live(db, claims.sid, user.id):
        raise unauthorized("invalid or expired token")
    return claims, user


async def user_from_token(db: AsyncSession, settings: Settings, token: str | None) -> User:
    """The active user a live access token names; 401 otherwise."""
    return (await claims_and_user(db, settings, token))[1]


async def get_current_user(
    db: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    return await user_from_token(db, settings, token)


async def user_from_ticket(
    db: AsyncSession, settings: Settings, ticket: str, session_id: str, purpose: tickets.Purpose
) -> User:
    """The active user of a valid ticket for this session and purpose, from a live sign-in; else 401."""
    try:
        user_id, sid = tickets.redeem(settings, ticket, session_id, purpose)
    except tickets.InvalidTicket:
        raise unauthorized("invalid, expired or used ticket") from None
    user = await db.get(User, user_id)
    if user is None or not user.is_active or not await is_live(db, sid, user.id):
        raise unauthorized("invalid, expired or used ticket")
    return user


async def get_stream_user(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    header_token: Annotated[str | None, Depends(oauth2_scheme)],
    ticket: Annotated[
        str | None,
        Query(description="A ticket (POST /api/auth/ticket), for EventSource and <audio>: they cannot set headers."),
    ] = None,
    token: Annotated[
        str | None, Query(description="Deprecated: the access token (only with ALLOW_QUERY_TOKEN=true).")
    ] = None,
) -> User:
    """Bearer header, or a `?ticket=` for this session (EventSource and <audio> cannot send headers)."""
    if header_token:
        return await user_from_token(db, settings, header_token)
    if ticket:
        purpose: tickets.Purpose = "audio" if request.url.path.endswith("/audio") else "stream"
        return await user_from_ticket(db, settings, ticket, request.path_params.get("session_id", ""), purpose)
    return await user_from_token(db, settings, token if settings.allow_query_token else None)


async def get_current_claims(
    db: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> TokenClaims:
    return (await claims_and_user(db, settings, token))[0]


CurrentUser = Annotated[User, Depends(get_current_user)]
CurrentClaims = Annotated[TokenClaims, Depends(get_current_claims)]
StreamUser = Annotated[User, Depends(get_stream_user)]


def require_admin(user: CurrentUser) -> User:
    if user.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="administrators only")
    return user


AdminUser = Annotated[User, Depends(require_admin)]

# The Temporal Web UI calls the codec endpoints from the browser and can send cookies
# (TEMPORAL_CODEC_INCLUDE_CREDENTIALS) but not a TherapyBridge bearer token: an administrator's sign-in
# in the web app sets this cookie (HttpOnly, SameSite=Strict, Path=/codec, the access token's lifetime).
CODEC_COOKIE = "tb_codec"


async def get_codec_admin(
    db: SessionDep,
    settings: SettingsDep,
    header_token: Annotated[str | None, Depends(oauth2_scheme)],
    cookie_token: Annotated[str | None, Cookie(alias=CODEC_COOKIE, include_in_schema=False)] = None,
) -> User:
    """An administrator, by bearer header (CLI, scripts) or by the codec cookie (the Temporal UI)."""
    return require_admin(await user_from_token(db, settings, header_token or cookie_token))


CodecAdmin = Annotated[User, Depends(get_codec_admin)]


def can_see(user: User, owner_id: str | None) -> bool:
    return user.role == "admin" or (owner_id is not None and owner_id == user.id)


SESSION_NOT_FOUND = "session not found"
PATIENT_NOT_FOUND = "patient not found"


async def visible_session(db: AsyncSession, user: User, session_id: str) -> SessionRecord:
    """The session row if this user may see it; otherwise 404, the same answer as for no session."""
    row = await db.get(SessionRecord, session_id)
    if row is None or not can_see(user, row.therapist_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=SESSION_NOT_FOUND)
    return row


async def own_patient(db: AsyncSession, user: User, patient_id: str) -> Patient:
    """A patient of this therapist (admins: any patient); otherwise 404."""
    patient = await db.get(Patient, patient_id)
    if patient is None or not can_see(user, patient.therapist_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=PATIENT_NOT_FOUND)
    return patient


# --------------------------------------------------------------------------- Temporal


class TemporalUnavailable(Exception):
    pass


class TemporalConnection:
    """One client per gateway process, connected on first use: the gateway starts (and reports its
    health) even while Temporal is still coming up."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def get(self, timeout: float = 5.0) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await connect(self._settings, timeout=timeout)
                except Exception as exc:
                    raise TemporalUnavailable(type(exc).__name__) from exc
        return self._client


async def get_temporal(request: Request) -> Client:
    try:
        return await request.app.state.temporal.get()
    except TemporalUnavailable:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="the workflow service is unavailable") from None


TemporalDep = Annotated[Client, Depends(get_temporal)]


@lru_cache
def _blob_store(root: Path) -> BlobStore:
    return BlobStore(root)


def get_blobs(settings: SettingsDep) -> BlobStore:
    return _blob_store(settings.blob_dir)


BlobsDep = Annotated[BlobStore, Depends(get_blobs)]
