"""Exports of a processed session: transcript.txt|.srt|.vtt|.json and diarization.rttm."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import Response

from therapybridge.api.deps import CurrentUser, SessionDep, visible_session
from therapybridge.api.models import Message
from therapybridge.api.routes.audit import record
from therapybridge.exports import FORMATS, ExportFormat

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
