from __future__ import annotations

import time

from temporalio import activity

from therapybridge import messages as m
from therapybridge.activities.common import blobs, log_stage, non_retryable, run_blocking
from therapybridge.settings import get_settings
from therapybridge.speech.audio import InvalidAudio, validate


@activity.defn(name=m.VALIDATE)
async def validate_upload(inp: m.SessionInput) -> m.ValidateResult:
    """Exists, size, extension, magic bytes, decodable audio with a positive duration."""
    t0 = time.monotonic()
    settings = get_settings()
    path = blobs().path(inp.upload_ref)
    if not path.exists():
        raise non_retryable("the uploaded file is missing", m.INVALID_AUDIO)
    if path.stat().st_size > settings.max_upload_size_mb * 1024 * 1024:
        raise non_retryable(f"the file is larger than {settings.max_upload_size_mb} MB", m.INVALID_AUDIO)
    try:
        info = await run_blocking(validate, path, inp.audio_filename, settings.max_duration_hours * 3600)
    except InvalidAudio as exc:
        raise non_retryable(str(exc), m.INVALID_AUDIO) from None
    log_stage("validate", inp.session_id, time.monotonic() - t0, duration_s=info.duration_seconds)
    return m.ValidateResult(duration_seconds=info.duration_seconds, format_name=info.format_name)
