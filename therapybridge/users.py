"""User accounts: creation (CLI) and password authentication (API). Emails are stored lower-cased."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from pathlib import Path
from typing import Literal

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from therapybridge.auth_sessions import revoke
from therapybridge.core.security import hash_password, verify_password
from therapybridge.db import User, session_scope

UserRole = Literal["therapist", "admin"]
ROLES: tuple[UserRole, ...] = ("therapist", "admin")
MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common_passwords.txt"


class UserError(ValueError):
    pass


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise UserError("the email address is not valid")
    return email


@lru_cache
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text().splitlines()
    return frozenset(ln.strip().lower() for ln in lines if ln.strip() and not ln.startswith("#"))


def check_password_policy(password: str, email: str = "") -> None:
    """At least MIN_PASSWORD_LENGTH characters, not a well-known password, not the email itself."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    folded = password.strip().lower()
    if folded in _common_passwords() or len(set(folded)) < 4:
        raise UserError("the password is too common or too simple; choose a longer, less predictable one")
    if email and folded in (email.strip().lower(), email.strip().lower().split("@")[0]):
        raise UserError("the password must not be the email address")


async def create_user(email: str, password: str, role: UserRole = "therapist") -> User:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    check_password_policy(password, email)
    user = User(email=normalise_email(email), password_hash=await asyncio.to_thread(hash_password, password), role=role)
    async with session_scope() as db:
        db.add(user)
        try:
            await db.commit()
        except IntegrityError:
            raise UserError("a user with this email already exists") from None
    return user


async def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, else None (same cost either way)."""
    async with session_scope() as db:
        user = (await db.exec(select(User).where(User.email == email.strip().lower()))).first()
    ok = await asyncio.to_thread(verify_password, password, user.password_hash if user else None)
    return user if ok and user is not None and user.is_active else None


async def _user_by_email(email: str) -> User:
    async with session_scope() as db:
        user = (await db.exec(select(User).where(User.email == normalise_email(email)))).first()
    if user is None:
        raise UserError("no user with this email")
    return user


async def set_password(email: str, password: str) -> User:
    """A new password; every sign-in of the user ends (whoever knew the old one is out)."""
    user = await _user_by_email(email)
    check_password_policy(password, user.email)
    hashed = await asyncio.to_thread(hash_password, password)
    async with session_scope() as db:
        await db.exec(update(User).where(User.id == user.id).values(password_hash=hashed))  # type: ignore[call-overload, arg-type]
        await db.commit()
    await revoke(user_id=user.id, reason="password")
    return user


async def set_active(email: str, active: bool) -> User:
    """Enable or disable a user; disabling ends every sign-in at once."""
    user = await _user_by_email(email)
    async with session_scope() as db:
        await db.exec(update(User).where(User.id == user.id).values(is_active=active))  # type: ignore[call-overload, arg-type]
        await db.commit()
    if not active:
        await revoke(user_id=user.id, reason="disabled")
    return user
