"""Checking an upload before a session exists: the form's fields, the file's type and audio, and
the per-user quotas' HTTP answers. The upload route (api.routes.sessions) composes these."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError

from therapybridge.blobs import BlobStore
from therapybridge.domain.speaker_hints import SESSION_TYPES, HintError, SpeakerHints, parse_count, resolve_hints
from therapybridge.settings import Settings
from therapybridge.speech.audio import ALLOWED_EXTENSIONS, AudioInfo, InvalidAudio, check_file_type, probe

MiB = 1024 * 1024

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "patient_id"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The recording."},
                        "patient_id": {"type": "string", "description": "One of your patients."},
                        "session_date": {"type": "string", "format": "date"},
                        "num_speakers": {"type": "integer", "minimum": 1, "maximum": 10,
                                         "description": "Exactly this many people speak."},
                        "min_speakers": {"type": "integer", "minimum": 1, "maximum": 10},
                        "max_speakers": {"type": "integer", "minimum": 1, "maximum": 10},
                        "session_type": {
                            "type": "string",
                            "enum": list(SESSION_TYPES),
                            "description": "individual = 2 speakers, couple = 3, family = 3 to 6, group = "
                            "3 or more; explicit counts take precedence. Nothing: counted automatically.",
                        },
                        "keep_audio": {
                            "type": "boolean",
                            "description": "Keep the recording after processing, for playback (true) or delete "
                            "it once processed (false). Nothing: the clinic's RETAIN_AUDIO.",
                        },
                    },
                }
            }
        },
    }
}  # fmt: skip


def error(code: int, detail: str) -> HTTPException:
    return HTTPException(code, detail=detail)


def field_error(field: str, msg: str = "Field required", kind: str = "missing") -> RequestValidationError:
    """A 422 shaped like FastAPI's own validation errors (the upload form is parsed by hand)."""
    return RequestValidationError([{"type": kind, "loc": ("body", field), "msg": msg, "input": None}])


def too_large(settings: Settings) -> HTTPException:
    return error(status.HTTP_413_CONTENT_TOO_LARGE, f"the file is larger than {settings.max_upload_size_mb} MB")


def over_stored_quota(settings: Settings) -> HTTPException:
    return error(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"this recording would take your stored audio past the {settings.max_stored_hours_per_user:g} h "
        "quota; delete sessions you no longer need",
    )


def too_many_active(settings: Settings) -> HTTPException:
    limit = settings.max_active_sessions_per_user
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail=f"you already have {limit} sessions queued or processing; upload again when one has finished",
        headers={"Retry-After": "60"},
    )


def reject_unsupported_type(filename: str) -> None:
    """Before a byte of the file is stored: no name, or an extension we never accept."""
    if not filename:
        raise field_error("file", "the file has no name", "value_error")
    if Path(filename).suffix.lower() not in ALLOWED_EXTENSIONS:
        try:  # the one validation's own message: its first check is the extension, so it raises there
            check_file_type(Path(filename), filename)
        except InvalidAudio as exc:
            raise error(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from None


async def validate_audio(settings: Settings, blobs: BlobStore, key: str, filename: str) -> AudioInfo:
    """speech.audio's checks: wrong type or header → 415, undecodable or empty audio → 400."""
    path = blobs.path(key)
    if path.stat().st_size == 0:
        raise error(status.HTTP_400_BAD_REQUEST, "the file is empty")
    try:
        await asyncio.to_thread(check_file_type, path, filename)
    except InvalidAudio as exc:
        raise error(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from None
    try:
        return await asyncio.to_thread(probe, path, settings.max_duration_hours * 3600)
    except InvalidAudio as exc:
        raise error(status.HTTP_400_BAD_REQUEST, str(exc)) from None


def parse_keep_audio(value: str | None) -> bool | None:
    """The upload's keep_audio field; None (absent or empty) means the clinic's RETAIN_AUDIO."""
    if value is None or value == "":
        return None
    if value.lower() in ("true", "1", "yes", "on"):
        return True
    if value.lower() in ("false", "0", "no", "off"):
        return False
    raise field_error("keep_audio", "expected true or false", "bool_parsing")


def parse_fields(fields: dict[str, str]) -> tuple[str, str | None, SpeakerHints]:
    patient_id = fields.get("patient_id", "").strip()
    if not patient_id:
        raise field_error("patient_id")
    session_date = fields.get("session_date") or None
    if session_date is not None:
        try:
            session_date = date.fromisoformat(session_date).isoformat()
        except ValueError:
            raise field_error("session_date", "expected a date as YYYY-MM-DD", "date_from_datetime_parsing") from None
    try:
        hints = resolve_hints(
            parse_count("num_speakers", fields.get("num_speakers")),
            parse_count("min_speakers", fields.get("min_speakers")),
            parse_count("max_speakers", fields.get("max_speakers")),
            fields.get("session_type"),
        )
    except HintError as exc:
        kind = "int_parsing" if exc.field != "session_type" and "whole number" in exc.message else "value_error"
        raise field_error(exc.field, exc.message, kind) from None
    return patient_id, session_date, hints
