"""Versioned transcripts (issue 16): the database side of a clinician's corrections.

The session document always holds the newest transcript (so the page, the exports and the notes
read the corrected text); `transcript_versions` keeps every version, the machine's as version 1,
recorded when the first correction is made. A correction that changes what the notes depend on
(words, who said a line, roles) marks its version `notes_status = pending`; RenotesWorkflow then
rebuilds the notes from it and adds the new clinical note as a draft beside a signed one
(signoff.after_save), never over it. The routes and the re-notes activities call these; routes
commit with their audit event.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from therapybridge.db import SessionRecord, TranscriptVersion
from therapybridge.document import Segment, SessionDocument, Speaker
from therapybridge.domain.transcript import transcript_text

MACHINE = 1  # the machine transcript's version number


class StaleVersion(Exception):
    """The transcript changed since the client read it."""


async def history(db: AsyncSession, session_id: str) -> list[TranscriptVersion]:
    query = (
        select(TranscriptVersion)
        .where(col(TranscriptVersion.session_id) == session_id)
        .order_by(col(TranscriptVersion.version))
    )
    return list((await db.exec(query)).all())


def current_version(vs: list[TranscriptVersion]) -> int:
    """The version the document holds: the machine transcript (1) until a correction is made."""
    return vs[-1].version if vs else MACHINE


def segments_of(v: TranscriptVersion) -> list[Segment]:
    return [Segment.model_validate(s) for s in v.segments]


def speakers_of(v: TranscriptVersion) -> list[Speaker]:
    return [Speaker.model_validate(s) for s in v.speakers]


def _dump(items: list[Segment] | list[Speaker]) -> list[dict[str, object]]:
    return [x.model_dump(mode="json") for x in items]


async def check_base(db: AsyncSession, session_id: str, base_version: int | None) -> None:
    """StaleVersion when the client edited another version than the current one (None: no check)."""
    current = current_version(await history(db, session_id))
    if base_version is not None and base_version != current:
        raise StaleVersion(f"the transcript changed since you read it (now version {current}); reload")


async def add_version(
    db: AsyncSession,
    row: SessionRecord,
    base_version: int | None,
    segments: list[Segment],
    speakers: list[Speaker],
    *,
    source: str,
    changed: int,
    user_id: str,
    renotes: bool,
) -> TranscriptVersion:
    """Record the corrected transcript as a new version and put it in the document. The first
    correction also keeps the machine transcript as version 1. StaleVersion when `base_version` (what
    the client read; None: do not check) is not the current one. The caller commits."""
    vs = await history(db, row.id)
    current = current_version(vs)
    if base_version is not None and base_version != current:
        raise StaleVersion(f"the transcript changed since you read it (now version {current}); reload")
    doc = row.to_document()
    if not vs:
        db.add(
            TranscriptVersion(
                session_id=row.id,
                version=MACHINE,
                source="machine",
                segments=_dump(doc.transcript_segments),
                speakers=_dump(doc.speakers),
            )
        )
    version = TranscriptVersion(
        session_id=row.id,
        version=current + 1,
        source=source,
        based_on=current,
        segments=_dump(segments),
        speakers=_dump(speakers),
        changed=changed,
        notes_status="pending" if renotes else None,
        created_by=user_id,
    )
    db.add(version)
    put_in_document(row, doc, segments, speakers)
    return version


def put_in_document(row: SessionRecord, doc: SessionDocument, segments: list[Segment], speakers: list[Speaker]) -> None:
    doc.transcript_segments, doc.speakers = segments, speakers
    doc.transcript_text = transcript_text(segments, speakers)
    row.document = doc.model_dump(mode="json")  # a new object: the JSON column notices the change


async def get(db: AsyncSession, session_id: str, version: int) -> TranscriptVersion | None:
    query = select(TranscriptVersion).where(
        col(TranscriptVersion.session_id) == session_id, col(TranscriptVersion.version) == version
    )
    return (await db.exec(query)).first()


async def delete_for_session(db: AsyncSession, session_id: str) -> None:
    """Delete means delete: every version is PHI. The caller commits."""
    await db.exec(delete(TranscriptVersion).where(col(TranscriptVersion.session_id) == session_id))  # type: ignore[call-overload]
