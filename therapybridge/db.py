"""Database tables (SQLModel) and the async engine: SQLite by default, Postgres through asyncpg.

The session row keeps the session document as JSON (the contract) plus the columns lists and
filters need. Writes of the document are idempotent upserts keyed by the session id.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import JSON, Column, LargeBinary, event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from therapybridge.document import SessionDocument
from therapybridge.settings import get_settings


def _now() -> datetime:
    return datetime.now(UTC)


def _uuid() -> str:
    return str(uuid.uuid4())


class User(SQLModel, table=True):
    __tablename__ = "users"
    id: str = Field(default_factory=_uuid, primary_key=True)
    email: str = Field(index=True, unique=True)
    password_hash: str
    role: str = Field(default="therapist")  # therapist | admin
    is_active: bool = True
    voiceprint: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(default_factory=_now)


class Patient(SQLModel, table=True):
    __tablename__ = "patients"
    id: str = Field(default_factory=_uuid, primary_key=True)
    therapist_id: str = Field(foreign_key="users.id", index=True)
    name: str
    date_of_birth: str | None = None
    external_id: str | None = None
    notes: str | None = None
    created_at: datetime = Field(default_factory=_now)


class SessionRecord(SQLModel, table=True):
    __tablename__ = "sessions"
    id: str = Field(default_factory=_uuid, primary_key=True)
    therapist_id: str | None = Field(default=None, index=True)
    patient_id: str | None = Field(default=None, index=True)
    status: str = Field(default="queued", index=True)
    progress: int = 0
    error: str | None = None
    audio_filename: str = ""
    upload_ref: str | None = None
    idempotency_key: str | None = Field(default=None, index=True)
    session_date: str | None = None
    document: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=_now, index=True)
    updated_at: datetime = Field(default_factory=_now)
    processed_at: datetime | None = None

    def to_document(self) -> SessionDocument:
        """The contract view of this row; the stored document wins where it exists."""
        base = SessionDocument(
            id=self.id,
            patient_id=self.patient_id,
            therapist_id=self.therapist_id,
            status=self.status,  # type: ignore[arg-type]
            progress=self.progress,
            error=self.error,
            audio_filename=self.audio_filename,
            created_at=self.created_at,
            session_date=self.session_date,
        )
        if not self.document:
            return base
        doc = SessionDocument.model_validate(self.document)
        return doc.model_copy(
            update={
                "status": self.status,
                "progress": self.progress,
                "error": self.error,
                "patient_id": self.patient_id,
                "therapist_id": self.therapist_id,
                "audio_filename": self.audio_filename,
                "created_at": self.created_at,
                "session_date": self.session_date,
            }
        )


@lru_cache
def get_engine(url: str | None = None) -> AsyncEngine:
    url = url or get_settings().resolved_database_url
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(conn, _record) -> None:  # type: ignore[no-untyped-def]
            # WAL: the API, io worker and CLI write the same file concurrently.
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True)


async def init_db(engine: AsyncEngine | None = None) -> None:
    """Create missing tables (idempotent)."""
    engine = engine or get_engine()
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)


@asynccontextmanager
async def session_scope(engine: AsyncEngine | None = None) -> AsyncIterator[AsyncSession]:
    async with AsyncSession(engine or get_engine(), expire_on_commit=False) as session:
        yield session


async def upsert_session(doc: SessionDocument, engine: AsyncEngine | None = None) -> None:
    """Insert or update the session row from a document; running it twice changes nothing more."""
    async with session_scope(engine) as db:
        row = await db.get(SessionRecord, doc.id)
        if row is None:
            row = SessionRecord(id=doc.id, therapist_id=doc.therapist_id, patient_id=doc.patient_id)
        row.status = doc.status
        row.progress = doc.progress
        row.error = doc.error
        row.audio_filename = row.audio_filename or doc.audio_filename
        row.document = doc.model_dump(mode="json")
        row.updated_at = _now()
        row.processed_at = doc.processed_at
        db.add(row)
        await db.commit()


async def get_session_document(session_id: str, engine: AsyncEngine | None = None) -> SessionDocument | None:
    async with session_scope(engine) as db:
        row = await db.get(SessionRecord, session_id)
        return row.to_document() if row else None
