"""AES-256-GCM payload codec: every payload in Temporal history is encrypted.

The key id travels in the payload metadata, so keys can rotate: the first configured key encrypts,
all configured keys decrypt. Keys come from CODEC_KEYS ("id:base64key,..."), or a key generated once
into <data_dir>/codec.key for the one-machine setup.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID_META = "encryption-key-id"


class CodecKeyError(RuntimeError):
    pass


def parse_keys(spec: str) -> list[tuple[str, bytes]]:
    """'id:base64key,id2:base64key2' → [(id, key)], first one encrypts."""
    keys: list[tuple[str, bytes]] = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        key_id, _, b64 = item.partition(":")
        try:
            key = base64.b64decode(b64, validate=True)
        except ValueError as exc:
            raise CodecKeyError(f"codec key '{key_id}' is not valid base64") from exc
        if len(key) != 32:
            raise CodecKeyError(f"codec key '{key_id}' must be 32 bytes (AES-256), got {len(key)}")
        keys.append((key_id, key))
    return keys


def new_key_spec(key_id: str = "k1") -> str:
    return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


def load_or_create_keys(spec: str, key_file: Path) -> list[tuple[str, bytes]]:
    if spec:
        return parse_keys(spec)
    try:  # O_EXCL: several processes starting together agree on one key
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(new_key_spec())
    except FileExistsError:
        pass
    for _ in range(50):
        text = key_file.read_text().strip()
        if text:
            return parse_keys(text)
        import time

        time.sleep(0.1)  # another process is still writing it
    raise CodecKeyError(f"codec key file {key_file} is empty")


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise CodecKeyError("no codec key configured")
        self._encrypt_id, key = keys[0]
        self._encryptor = AESGCM(key)
        self._decryptors = {kid: AESGCM(k) for kid, k in keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(self._decrypt_all(payloads))

    def _encrypt(self, p: Payload) -> Payload:
        nonce = os.urandom(12)
        data = nonce + self._encryptor.encrypt(nonce, p.SerializeToString(), None)
        return Payload(metadata={"encoding": ENCODING, KEY_ID_META: self._encrypt_id.encode()}, data=data)

    def _decrypt_all(self, payloads: Iterable[Payload]) -> Iterable[Payload]:
        for p in payloads:
            if p.metadata.get("encoding") != ENCODING:
                yield p  # not ours (e.g. written before encryption was on)
                continue
            key_id = p.metadata.get(KEY_ID_META, b"").decode()
            aes = self._decryptors.get(key_id)
            if aes is None:
                raise CodecKeyError(f"payload encrypted with unknown key id '{key_id}'")
            yield Payload.FromString(aes.decrypt(p.data[:12], p.data[12:], None))
