"""Payload encryption: round trip, key rotation, nothing readable in the ciphertext."""

from __future__ import annotations

import pytest
from temporalio.api.common.v1 import Payload

from therapybridge.codec import CodecKeyError, EncryptionCodec, new_key_spec, parse_keys


async def test_round_trip_and_ciphertext_hides_content() -> None:
    codec = EncryptionCodec(parse_keys(new_key_spec("a")))
    secret = Payload(metadata={"encoding": b"json/plain"}, data=b'"I feel hopeless"')
    [enc] = await codec.encode([secret])
    assert b"hopeless" not in enc.SerializeToString()
    assert enc.metadata["encryption-key-id"] == b"a"
    assert await codec.decode([enc]) == [secret]


async def test_rotation_old_key_still_decrypts() -> None:
    old, new = new_key_spec("old"), new_key_spec("new")
    [enc] = await EncryptionCodec(parse_keys(old)).encode([Payload(data=b"x")])
    rotated = EncryptionCodec(parse_keys(f"{new},{old}"))
    assert (await rotated.decode([enc]))[0].data == b"x"
    [enc2] = await rotated.encode([Payload(data=b"y")])
    assert enc2.metadata["encryption-key-id"] == b"new"
    with pytest.raises(CodecKeyError, match="unknown key id 'new'"):
        await EncryptionCodec(parse_keys(old)).decode([enc2])


def test_bad_keys_are_refused() -> None:
    with pytest.raises(CodecKeyError, match="32 bytes"):
        parse_keys("k:" + "QUJD")
    with pytest.raises(CodecKeyError, match="base64"):
        parse_keys("k:not base64!")
