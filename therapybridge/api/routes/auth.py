"""OAuth2 password flow: an access JWT (ACCESS_TOKEN_MINUTES) and a refresh JWT (REFRESH_TOKEN_DAYS)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from therapybridge.api.deps import CODEC_COOKIE, CurrentUser, SessionDep, SettingsDep, unauthorized
from therapybridge.api.models import Message, RefreshRequest, Token, UserPublic
from therapybridge.api.security import InvalidToken, create_token, decode_token
from therapybridge.api.throttle import LoginThrottle
from therapybridge.db import User
from therapybridge.settings import Settings
from therapybridge.users import authenticate

router = APIRouter(prefix="/api/auth", tags=["auth"])


def issue_tokens(settings: Settings, user_id: str) -> Token:
    access, lifetime = create_token(settings, user_id, "access")
    refresh, _ = create_token(settings, user_id, "refresh")
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
    form: Annotated[OAuth2PasswordRequestForm, Depends()], settings: SettingsDep, request: Request, response: Response
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
    token = issue_tokens(settings, user.id)
    codec_cookie(request, response, user, token)
    return token


@router.post("/refresh", response_model=Token, responses={401: {"model": Message}})
async def refresh(
    body: RefreshRequest, db: SessionDep, settings: SettingsDep, request: Request, response: Response
) -> Token:
    """A new access token (and a new refresh token) for a valid refresh token."""
    try:
        claims = decode_token(settings, body.refresh_token, "refresh")
    except InvalidToken:
        raise unauthorized("invalid or expired refresh token") from None
    user = await db.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise unauthorized("invalid or expired refresh token")
    token = issue_tokens(settings, user.id)
    codec_cookie(request, response, user, token)
    return token


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses={401: {"model": Message}})
async def logout(_user: CurrentUser) -> Response:
    """Sign-out in the web app: removes the codec cookie (access tokens themselves expire on their own)."""
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(CODEC_COOKIE, path="/codec")
    return response


@router.get("/me", response_model=UserPublic, responses={401: {"model": Message}})
async def me(user: CurrentUser) -> User:
    return user
