"""Alembic environment on the async engine (asyncpg or aiosqlite).

`therapybridge db upgrade` and `db.init_db()` pass an open connection in
`config.attributes["connection"]` (they hold the migration lock on it); the `alembic` command line
opens its own async engine from the settings' URL.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import therapybridge.breaker  # its table too, so autogenerate keeps it
import therapybridge.db  # noqa: F401  (registers the tables on SQLModel.metadata)
from therapybridge.settings import get_settings

config = context.config
target_metadata = SQLModel.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(get_settings().resolved_database_url)
    async with engine.connect() as conn:
        await conn.run_sync(_configure)
    await engine.dispose()


def run_offline() -> None:
    context.configure(url=get_settings().resolved_database_url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif (shared := config.attributes.get("connection")) is not None:
    _configure(shared)
else:
    asyncio.run(_run_async())
