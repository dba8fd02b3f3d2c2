"""`therapybridge users ...` and `therapybridge db upgrade`: accounts and the database schema."""

from __future__ import annotations

import sys

from therapybridge import db


def read_password(given: str | None) -> str:
    if given not in (None, "-"):
        return given
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\n")


async def create_user_command(email: str, password: str, role: str) -> int:
    from therapybridge.users import UserError, create_user

    await db.init_db()
    try:
        user = await create_user(email, password, role)  # type: ignore[arg-type]
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(user.id)
    return 0


async def manage_user_command(command: str, email: str, password: str | None) -> int:
    """`users set-password | disable | enable`: each ends the user's sign-ins where it matters."""
    from therapybridge.users import UserError, set_active, set_password

    await db.init_db()
    try:
        if command == "set-password":
            user = await set_password(email, password or "")
        else:
            user = await set_active(email, command == "enable")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(user.id)
    return 0


async def db_upgrade() -> int:
    await db.init_db()
    print("database schema is up to date", file=sys.stderr)
    return 0
