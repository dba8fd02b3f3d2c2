"""Database tables (SQLModel) and the async engine: SQLite by default, Postgres through asyncpg.

The session row keeps the session document as JSON (the contract) plus the columns lists and
filters need. Writes of the document are idempotent upserts keyed by the session id.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Column, Connection, Index, LargeBinary, Text, event, inspect, text
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


class AuthSession(SQLModel, table=True):
    """One sign-in: every access and refresh token carries its id (`sid`). Refresh tokens rotate; the
    jti of the one valid refresh token is kept, so a reused (stolen) one is recognised and revokes the
    whole family. Logout, a password change and disabling the user revoke it too."""

    __tablename__ = "auth_sessions"
    id: str = Field(default_factory=_uuid, primary_key=True)
    user_id: str = Field(foreign_key="users.id", index=True)
    refresh_jti: str
    previous_jti: str | None = None  # the one rotated away, for the concurrent-refresh grace
    rotated_at: float = 0.0  # epoch seconds
    created_at: datetime = Field(default_factory=_now)
    expires_at: float  # epoch seconds: compared in Python, the same on SQLite and Postgres
    revoked_at: float | None = None
    revoked_reason: str | None = None  # logout | reuse | password | disabled


class AuditEvent(SQLModel, table=True):
    """One access to patient data (read, export, delete of a session or patient). Identifiers only."""

    __tablename__ = "audit_events"
    id: int | None = Field(default=None, primary_key=True)
    at: float = Field(default_factory=time.time, index=True)  # epoch seconds
    user_id: str = Field(index=True)
    action: str  # session.read | session.export | session.notes | session.audio | session.delete | patient.*
    session_id: str | None = Field(default=None, index=True)
    patient_id: str | None = Field(default=None, index=True)
    # What the action touched, as an identifier: `note:3`, `summary:2`, `flag:<flag id>`. The change
    # itself (PHI) is in note_versions / flag_reviews, never here.
    ref: str | None = None


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
    __table_args__ = (
        # One session per (therapist, Idempotency-Key): a retried upload finds the first one.
        Index("uq_sessions_therapist_idempotency", "therapist_id", "idempotency_key", unique=True),
        Index("ix_sessions_therapist_created", "therapist_id", "created_at", "id"),
    )
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
    # The upload's speaker-count hints (resolved from session_type and explicit counts), kept so a
    # retry runs with them too.
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    session_type: str | None = None
    # Keep the recording after processing (upload option); None: the clinic's RETAIN_AUDIO.
    keep_audio: bool | None = None
    duration_seconds: float | None = None
    document: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # Sign-off at a glance, for the session list (kept by therapybridge.signoff, recomputed from the
    # note versions and flag reviews on every change): unsigned | signed | None (no note), and the
    # number of risk flags nobody has acknowledged or dismissed yet.
    note_status: str | None = None
    open_flags: int | None = None
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


class DeletedSession(SQLModel, table=True):
    """A tombstone: the session was deleted. An activity still in flight at that moment must not
    bring the row back, and the purge schedule removes any file it wrote afterwards."""

    __tablename__ = "deleted_sessions"
    id: str = Field(primary_key=True)
    deleted_at: float  # epoch seconds


class NoteVersion(SQLModel, table=True):
    """One version of a session's clinical note (kind `note`) or client summary (kind `summary`).

    Never edited in place: an edit adds a version and marks the draft it replaces `superseded`; a
    signed note (an approved summary) is locked for good, and an amendment is a new version based on
    it. PHI: the text lives here, in the database, and never in logs or the audit log."""

    __tablename__ = "note_versions"
    __table_args__ = (Index("uq_note_versions_session_kind_version", "session_id", "kind", "version", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(index=True)
    kind: str  # note | summary
    version: int  # 1, 2, … per session and kind
    status: str  # draft | signed (note) | approved (summary) | superseded (a draft replaced by a later one)
    format: str | None = None  # soap | dap | birp | girp (notes)
    text: str = Field(sa_column=Column(Text, nullable=False))
    source: str  # engine | clinician | amendment | reprocess
    based_on: int | None = None  # the version this one was edited or amended from
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # why an amendment
    origin_run: str | None = None  # the workflow run whose save wrote an engine version (idempotent saves)
    created_by: str | None = None  # user id; None for the engine
    created_at: float = Field(default_factory=time.time)
    signed_by: str | None = None
    signed_at: float | None = None


class TranscriptVersion(SQLModel, table=True):
    """One version of a session's transcript (issue 16): version 1 is the machine transcript, kept
    when the first correction is made; each clinician correction, role change or undo adds one. The
    document always holds the newest; re-notes from it run in RenotesWorkflow (`notes_status`). PHI:
    the segments and display names live here, never in logs."""

    __tablename__ = "transcript_versions"
    __table_args__ = (Index("uq_transcript_versions_session_version", "session_id", "version", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(index=True)
    version: int  # 1 (machine), 2, … per session
    source: str  # machine | edit | roles | revert
    based_on: int | None = None
    segments: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    speakers: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    changed: int = 0  # how many lines (or speakers) this version changed
    notes_status: str | None = None  # pending | done | failed: notes rebuilt from this version; None: not needed
    created_by: str | None = None  # user id; None for the machine transcript
    created_at: float = Field(default_factory=time.time)


class FlagReview(SQLModel, table=True):
    """A clinician's decision on one risk flag: acknowledged or dismissed, with a reason. A later
    review of the same flag does not replace this row; the newest one is the flag's state."""

    __tablename__ = "flag_reviews"
    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(index=True)
    flag_id: str  # therapybridge.domain.signoff.flag_id: stable across reprocessing of the same finding
    decision: str  # acknowledged | dismissed
    reason: str = Field(sa_column=Column(Text, nullable=False))
    user_id: str
    at: float = Field(default_factory=time.time)


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


MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BASELINE_REVISION = "0001"  # the schema create_all made before migrations existed
_PG_MIGRATION_LOCK = 7_233_001  # pg_advisory_xact_lock key: one migrator at a time


async def init_db(engine: AsyncEngine | None = None) -> None:
    """Bring the schema to the newest migration (`alembic upgrade head`); idempotent, and safe when the
    gateway and the io worker start together (one migrates, the other waits, then finds nothing to do)."""
    engine = engine or get_engine()
    if engine.dialect.name == "sqlite":
        # SQLite has no advisory locks; a lock file beside the database serialises the processes.
        lock_path = Path(engine.url.database or ".").with_suffix(".migrate.lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a") as lock:
            await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
            try:
                async with engine.begin() as conn:
                    await conn.run_sync(_upgrade_head)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return
    async with engine.begin() as conn:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        await conn.run_sync(_upgrade_head)


def alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # a line per plugin on every start

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade_head(connection: Connection) -> None:
    from alembic import command

    cfg = alembic_config(connection)
    tables = set(inspect(connection).get_table_names())
    if "sessions" in tables and "alembic_version" not in tables:
        command.stamp(cfg, BASELINE_REVISION)  # a database made by create_all: adopt it, then upgrade
    command.upgrade(cfg, "head")


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
        row.duration_seconds = doc.duration_seconds
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


async def is_deleted(session_id: str, engine: AsyncEngine | None = None) -> bool:
    async with session_scope(engine) as db:
        return await db.get(DeletedSession, session_id) is not None
