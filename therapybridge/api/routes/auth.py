"""OAuth2 password flow: an access JWT (ACCESS_TOKEN_MINUTES) and a refresh JWT (REFRESH_TOKEN_DAYS)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from therapybridge.api.deps import CurrentUser, SessionDep, SettingsDep, unauthorized
from therapybridge.api.models import Message, RefreshRequest, Token, UserPublic
from therapybridge.api.security import InvalidToken, create_token, decode_token
from therapybridge.db import User
from therapybridge.settings import Settings
from therapybridge.users import authenticate

router = APIRouter(prefix="/api/auth", tags=["auth"])


def issue_tokens(settings: Settings, user_id: str) -> Token:
    access, lifetime = create_token(settings, user_id, "access")
    refresh, _ = create_token(settings, user_id, "refresh")
    return Token(access_token=access, refresh_token=refresh, expires_in=lifetime)


@router.post("/token", response_model=Token, responses={401: {"model": Message}})
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], settings: SettingsDep) -> Token:
    """Exchange email (the form's `username`) and password for tokens."""
    user = await authenticate(form.username, form.password)
    if user is None:
        raise unauthorized("incorrect email or password")
    return issue_tokens(settings, user.id)


@router.post("/refresh", response_model=Token, responses={401: {"model": Message}})
async def refresh(body: RefreshRequest, db: SessionDep, settings: SettingsDep) -> Token:
    """A new access token (and a new refresh token) for a valid refresh token."""
    try:
        claims = decode_token(settings, body.refresh_token, "refresh")
    except InvalidToken:
        raise unauthorized("invalid or expired refresh token") from None
    user = await db.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise unauthorized("invalid or expired refresh token")
    return issue_tokens(settings, user.id)


@router.get("/me", response_model=UserPublic, responses={401: {"model": Message}})
async def me(user: CurrentUser) -> User:
    return user
