"""Passwords (argon2 via pwdlib) and JWTs (HS256): short-lived access tokens, longer refresh tokens.

The signing key is SECRET_KEY, or one generated once into <data_dir>/jwt.key (the one-machine
setup); every gateway instance must share it.
"""

from __future__ import annotations

import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

import jwt
from pwdlib import PasswordHash

from therapybridge.settings import Settings

ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]

_hasher = PasswordHash.recommended()  # argon2id


class InvalidToken(Exception):
    """Expired, tampered, wrong type or otherwise unusable token."""


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    type: TokenType
    expires_at: datetime
    sid: str  # the sign-in session (auth_sessions row) the token belongs to: revocation looks it up
    jti: str


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if not password_hash:
        # Unknown user: spend the same time as a real check, so timing does not reveal which emails exist.
        _hasher.verify(password, _dummy_hash())
        return False
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed login, not a 500
        return False


@lru_cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


@lru_cache
def _key_from_file(path: Path) -> str:
    try:  # O_EXCL: processes starting together agree on one key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    except FileExistsError:
        pass
    for _ in range(50):
        key = path.read_text().strip()
        if key:
            return key
        import time

        time.sleep(0.1)  # another process is still writing it
    raise RuntimeError(f"JWT key file {path} is empty")


def signing_key(settings: Settings) -> str:
    return settings.secret_key or _key_from_file((settings.data_dir / "jwt.key").resolve())


def create_token(
    settings: Settings, user_id: str, token_type: TokenType, sid: str, jti: str | None = None
) -> tuple[str, int]:
    """A signed token of sign-in session `sid` and its lifetime in seconds."""
    lifetime = (
        timedelta(minutes=settings.access_token_minutes)
        if token_type == "access"
        else timedelta(days=settings.refresh_token_days)
    )
    now = datetime.now(UTC)
    claims = {
        "sub": user_id, "type": token_type, "sid": sid, "iat": now, "exp": now + lifetime,
        "jti": jti or uuid.uuid4().hex,
    }  # fmt: skip
    return jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM), int(lifetime.total_seconds())


def decode_token(settings: Settings, token: str, expected: TokenType) -> TokenClaims:
    try:
        claims = jwt.decode(
            token,
            signing_key(settings),
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub", "type", "sid", "jti"]},  # no sid: not revocable, not accepted
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(type(exc).__name__) from None
    if claims.get("type") != expected or not all(isinstance(claims.get(k), str) for k in ("sub", "sid", "jti")):
        raise InvalidToken("wrong token type")
    return TokenClaims(
        claims["sub"], expected, datetime.fromtimestamp(claims["exp"], UTC), claims["sid"], claims["jti"]
    )
