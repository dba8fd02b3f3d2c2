"""Codec server for the Temporal Web UI and CLI: decrypts (and encrypts) payloads with the same
AES-GCM keys as the workers, so operators can read workflow inputs and failures.

Protocol: POST {endpoint}/decode and {endpoint}/encode with {"payloads": [...]} in protobuf JSON
(base64 metadata and data), answered in the same shape. Decrypted payloads name sessions and
therapists, across every tenant, so only administrators may call it: with a bearer token (the CLI's
`--codec-auth`) or the `tb_codec` cookie an administrator's web sign-in sets (the Temporal UI sends it
with TEMPORAL_CODEC_INCLUDE_CREDENTIALS). CORS for TEMPORAL_UI_ORIGIN, with credentials, is added by
the app (api.app.PathCORS) for these paths only.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from therapybridge.api.deps import CodecAdmin, SettingsDep
from therapybridge.api.models import Message
from therapybridge.codec import EncryptionCodec, load_or_create_keys

router = APIRouter(prefix="/codec", tags=["codec"])
MAX_BODY = 8 * 1024 * 1024
PAYLOADS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["payloads"],
                    "properties": {
                        "payloads": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                                    "data": {"type": "string", "format": "byte"},
                                },
                            },
                        }
                    },
                }
            }
        },
    }
}
RESPONSES = {
    200: {"content": {"application/json": {}}},
    400: {"model": Message},
    401: {"model": Message},
    403: {"model": Message},
}


@lru_cache
def _codec(spec: str, key_file: Path) -> EncryptionCodec:
    return EncryptionCodec(load_or_create_keys(spec, key_file))


async def _payloads(request: Request) -> Payloads:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail="too many payloads at once")
    try:
        return json_format.Parse(body, Payloads())
    except (json_format.ParseError, UnicodeDecodeError, ValueError):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, detail='expected {"payloads": [...]} in protobuf JSON'
        ) from None


def _answer(payloads: list) -> Response:  # type: ignore[type-arg]
    return Response(json_format.MessageToJson(Payloads(payloads=payloads)), media_type="application/json")


@router.post("/decode", openapi_extra=PAYLOADS_BODY, responses=RESPONSES, response_class=Response)
async def decode(request: Request, _admin: CodecAdmin, settings: SettingsDep) -> Response:
    codec = _codec(settings.codec_keys, (settings.data_dir / "codec.key").resolve())
    try:
        decoded = await codec.decode((await _payloads(request)).payloads)
    except HTTPException:
        raise
    except Exception:  # unknown key id, tampered ciphertext, garbage
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="a payload could not be decrypted") from None
    return _answer(decoded)


@router.post("/encode", openapi_extra=PAYLOADS_BODY, responses=RESPONSES, response_class=Response)
async def encode(request: Request, _admin: CodecAdmin, settings: SettingsDep) -> Response:
    codec = _codec(settings.codec_keys, (settings.data_dir / "codec.key").resolve())
    return _answer(await codec.encode((await _payloads(request)).payloads))
