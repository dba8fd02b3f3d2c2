"""What the web app's upload form needs to know about this clinic's server: the accepted files and
whether recordings are kept by default (RETAIN_AUDIO; each upload may choose otherwise)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from therapybridge.api.deps import CurrentUser, SettingsDep
from therapybridge.api.models import Message
from therapybridge.speech.audio import ALLOWED_EXTENSIONS

router = APIRouter(prefix="/api/config", tags=["config"])


class UploadConfig(BaseModel):
    allowed_extensions: list[str]
    max_upload_size_mb: int
    retain_audio: bool = Field(
        description="The clinic's default: keep the recording after processing, for playback. An upload's "
        "`keep_audio` field overrides it for that session."
    )


@router.get("", response_model=UploadConfig, responses={401: {"model": Message}})
async def get_config(user: CurrentUser, settings: SettingsDep) -> UploadConfig:
    return UploadConfig(
        allowed_extensions=sorted(ALLOWED_EXTENSIONS),
        max_upload_size_mb=settings.max_upload_size_mb,
        retain_audio=settings.retain_audio,
    )
