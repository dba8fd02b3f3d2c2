"""Exports of a processed session: transcript.txt|.srt|.vtt|.json, diarization.rttm, and the clinical
note as note.pdf|.docx (the signed version when there is one, else the current draft, marked)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import Response

from therapybridge import signoff
from therapybridge.api.deps import CurrentUser, SessionDep, visible_session
from therapybridge.api.models import Message
from therapybridge.api.routes.audit import record
from therapybridge.db import NoteVersion, SessionRecord
from therapybridge.exports import FORMATS, ExportFormat
from therapybridge.note_documents import NoteFile, to_docx, to_pdf

router = APIRouter(prefix="/api/sessions", tags=["exports"])


def _endpoint(fmt: ExportFormat) -> Callable[[str, CurrentUser, SessionDep], Awaitable[Response]]:
    async def export(session_id: str, user: CurrentUser, db: SessionDep) -> Response:
        row = await visible_session(db, user, session_id)
        if row.status != "processed":
            raise HTTPException(status.HTTP_409_CONFLICT, detail=f"the session is {row.status}, not processed")
        body = fmt.render(row.to_document())
        await record(db, user, "session.export", session_id=row.id, patient_id=row.patient_id)
        # Named after the session id: the upload's own name can be patient data.
        disposition = f'attachment; filename="session-{row.id}-{fmt.filename}"'
        return Response(body, media_type=fmt.media_type, headers={"Content-Disposition": disposition})

    return export


for _name, _fmt in FORMATS.items():
    router.add_api_route(
        f"/{{session_id}}/{_name}",
        _endpoint(_fmt),
        methods=["GET"],
        name=f"export_{_name.replace('.', '_')}",
        summary=f"Export {_name}",
        response_class=Response,
        responses={
            200: {"content": {_fmt.media_type.split(";")[0]: {}}},
            401: {"model": Message},
            404: {"model": Message},
            409: {"model": Message, "description": "The session is not processed."},
        },
    )


NOTE_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def _when(t: float | None) -> str:
    return datetime.fromtimestamp(t or 0, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _note_file(row: SessionRecord, v: NoteVersion, who: dict[str, str]) -> NoteFile:
    fmt = (v.format or "soap").upper()
    if v.status == "signed":
        status_line = f"Signed by {who.get(v.signed_by or '', 'a clinician')} on {_when(v.signed_at)}"
    else:
        status_line = "DRAFT — not signed; review before filing"
    details = [("Session", row.id), ("Note version", str(v.version))]
    if row.session_date:
        details.insert(1, ("Session date", row.session_date))
    return NoteFile(title=f"Clinical note ({fmt})", status_line=status_line, details=details, body=v.text)


async def _export_note(
    kind: Literal["pdf", "docx"],
    session_id: str,
    user: CurrentUser,
    db: SessionDep,
    version: Annotated[int | None, Query(ge=1, description="Default: the signed note, else the draft.")] = None,
) -> Response:
    """The clinical note as a PDF or DOCX file: the signed version (or `version`); a session whose
    note is not signed yet gets its current draft, marked DRAFT on the page."""
    row = await visible_session(db, user, session_id)
    if row.status != "processed" or signoff.notes_of(row) is None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"the session is {row.status}, not processed")
    await signoff.ensure_drafts(db, row)
    vs = await signoff.versions(db, row.id, "note")
    if version is not None:
        chosen = next((v for v in vs if v.version == version), None)
    else:
        chosen = signoff.latest_final(vs, "note") or signoff.head(vs)
    if chosen is None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="no such note version")
    note = _note_file(row, chosen, await signoff.emails(db, {chosen.signed_by}))
    await record(db, user, "session.export", session_id=row.id, patient_id=row.patient_id, ref=f"note:{chosen.version}")
    body = await asyncio.to_thread(to_pdf if kind == "pdf" else to_docx, note)
    disposition = f'attachment; filename="session-{row.id}-note-v{chosen.version}.{kind}"'
    return Response(body, media_type=NOTE_TYPES[kind], headers={"Content-Disposition": disposition})


def _note_endpoint(kind: Literal["pdf", "docx"]) -> Callable[..., Awaitable[Response]]:
    async def export(
        session_id: str,
        user: CurrentUser,
        db: SessionDep,
        version: Annotated[int | None, Query(ge=1, description="Default: the signed note, else the draft.")] = None,
    ) -> Response:
        return await _export_note(kind, session_id, user, db, version)

    export.__doc__ = _export_note.__doc__
    return export


for _kind in ("pdf", "docx"):
    router.add_api_route(
        f"/{{session_id}}/note.{_kind}",
        _note_endpoint(_kind),  # type: ignore[arg-type]
        methods=["GET"],
        name=f"export_note_{_kind}",
        summary=f"The clinical note as {_kind.upper()}",
        response_class=Response,
        responses={
            200: {"content": {NOTE_TYPES[_kind]: {}}},
            401: {"model": Message},
            404: {"model": Message},
            409: {"model": Message, "description": "Not processed, or no such note version."},
        },
    )
