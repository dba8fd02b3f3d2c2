"""OAuth2 password flow: an access JWT (ACCESS_TOKEN_MINUTES) and a refresh JWT (REFRESH_TOKEN_DAYS)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from therapybridge.api import tickets
from therapybridge.api.deps import (
    CODEC_COOKIE,
    CurrentClaims,
    CurrentUser,
    SessionDep,
    SettingsDep,
    unauthorized,
    visible_session,
)
from therapybridge.api.models import Message, RefreshRequest, Token, UserPublic
from therapybridge.api.throttle import LoginThrottle
from therapybridge.auth_sessions import RefreshRefused, open_session, revoke, rotate
from therapybridge.core.security import InvalidToken, create_token, decode_token
from therapybridge.db import User
from therapybridge.settings import Settings
from therapybridge.users import authenticate

router = APIRouter(prefix="/api/auth", tags=["auth"])


def issue_tokens(settings: Settings, user_id: str, sid: str, refresh_jti: str) -> Token:
    access, lifetime = create_token(settings, user_id, "access", sid)
    refresh, _ = create_token(settings, user_id, "refresh", sid, refresh_jti)
    return Token(access_token=access, refresh_token=refresh, expires_in=lifetime)


def codec_cookie(request: Request, response: Response, user: User, token: Token) -> None:
    """An administrator's browser gets the access token as a cookie only the codec endpoints receive
    (for the Temporal UI); anyone else's browser loses any such cookie left from an earlier sign-in."""
    if user.role != "admin":
        response.delete_cookie(CODEC_COOKIE, path="/codec")
        return
    response.set_cookie(
        CODEC_COOKIE, token.access_token, max_age=token.expires_in, path="/codec",
        httponly=True, samesite="strict", secure=request.url.scheme == "https",
    )  # fmt: skip


def _throttle(request: Request, settings: Settings) -> LoginThrottle:
    app_state = request.app.state
    if getattr(app_state, "login_throttle", None) is None:
        app_state.login_throttle = LoginThrottle(settings)
    throttle: LoginThrottle = app_state.login_throttle
    return throttle


@router.post(
    "/token",
    response_model=Token,
    responses={401: {"model": Message}, 429: {"model": Message, "description": "Too many failed sign-ins."}},
)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> Token:
    """Exchange email (the form's `username`) and password for tokens.

    Failed sign-ins are throttled per account and client, per client, and per account: past the limit
    the answer is 429 with `Retry-After` (the lock expires by itself), before any password is checked.
    """
    throttle = _throttle(request, settings)
    account, client = form.username.strip().lower()[:320], request.client.host if request.client else "?"
    wait = throttle.retry_after(account, client)
    if wait:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail="too many failed sign-ins; try again later",
            headers={"Retry-After": str(wait)},
        )
    throttle.attempt(account, client)
    user = await authenticate(form.username, form.password)
    if user is None:
        raise unauthorized("incorrect email or password")
    throttle.success(account, client)
    signin = await open_session(db, user.id, settings.refresh_token_days * 86400)
    token = issue_tokens(settings, user.id, signin.id, signin.refresh_jti)
    codec_cookie(request, response, user, token)
    return token


@router.post("/refresh", response_model=Token, responses={401: {"model": Message}})
async def refresh(
    body: RefreshRequest, db: SessionDep, settings: SettingsDep, request: Request, response: Response
) -> Token:
    """A new access token and a new refresh token for a valid refresh token, which is spent: using it
    again revokes the whole sign-in (reuse means it was copied), and both holders must sign in again."""
    try:
        claims = decode_token(settings, body.refresh_token, "refresh")
    except InvalidToken:
        raise unauthorized("invalid or expired refresh token") from None
    user = await db.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise unauthorized("invalid or expired refresh token")
    try:
        jti = await rotate(db, claims.sid, user.id, claims.jti)
    except RefreshRefused:
        raise unauthorized("invalid or expired refresh token") from None
    token = issue_tokens(settings, user.id, claims.sid, jti)
    codec_cookie(request, response, user, token)
    return token


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses={401: {"model": Message}})
async def logout(claims: CurrentClaims, db: SessionDep) -> Response:
    """Sign-out: revokes this sign-in (its access and refresh tokens stop working at once) and removes
    the codec cookie."""
    await revoke(db, sid=claims.sid, reason="logout")
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(CODEC_COOKIE, path="/codec")
    return response


class TicketRequest(BaseModel):
    session_id: str = Field(min_length=1, max_length=100)
    purpose: tickets.Purpose = "stream"


class Ticket(BaseModel):
    ticket: str
    expires_in: int


@router.post("/ticket", response_model=Ticket, responses={401: {"model": Message}, 404: {"model": Message}})
async def ticket(
    body: TicketRequest, claims: CurrentClaims, user: CurrentUser, db: SessionDep, settings: SettingsDep
) -> Ticket:
    """A ticket for one session's progress stream (`?ticket=` on the WebSocket or SSE URL: single use,
    60 s) or audio (`/audio?ticket=`: the access token's lifetime), so no bearer token goes in a URL."""
    await visible_session(db, user, body.session_id)
    value, lifetime = tickets.issue(settings, user.id, claims.sid, body.session_id, body.purpose)
    return Ticket(ticket=value, expires_in=lifetime)


@router.get("/me", response_model=UserPublic, responses={401: {"model": Message}})
async def me(user: CurrentUser) -> User:
    return user
