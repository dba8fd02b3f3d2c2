"""Issue 13, defect 4: request bodies are capped by route before authentication (declared or chunked),
and validation errors never echo what the client sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.gateway import local_gateway, lying_flac

MiB = 1024 * 1024


async def _chunks(total: int, chunk: bytes = b"x" * 65536) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield chunk
        sent += len(chunk)


async def test_unauthenticated_big_bodies_are_413_before_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with local_gateway(tmp_path, monkeypatch) as gw, gw.client() as c:
        junk = b'{"refresh_token": "' + b"a" * (2 * MiB) + b'"}'
        r = await c.post("/api/auth/refresh", content=junk, headers={"content-type": "application/json"})
        assert r.status_code == 413, r.text
        # Chunked (no Content-Length): counted as it arrives and cut off.
        r = await c.post("/api/auth/refresh", content=_chunks(2 * MiB), headers={"content-type": "application/json"})
        assert r.status_code == 413, r.text
        r = await c.post("/api/patients", content=_chunks(4 * MiB), headers={"content-type": "application/json"})
        assert r.status_code == 413, r.text  # before the 401: no body is read for nothing


async def test_validation_errors_do_not_echo_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = "SECRET-INPUT-MARKER"
    async with local_gateway(tmp_path, monkeypatch) as gw:
        token, _ = await gw.token()
        async with gw.client(token) as c:
            r = await c.post("/api/auth/refresh", json={"refresh_token": [marker * 100]})
            assert r.status_code == 422 and marker not in r.text, r.text
            r = await c.post("/api/patients", json={"name": marker * 20, "external_id": marker * 20})
            assert r.status_code == 422 and marker not in r.text, r.text
            error = r.json()["detail"][0]
            assert set(error) == {"type", "loc", "msg"} and error["loc"][0] == "body"
            r = await c.post("/api/auth/token", data={"username": marker})  # no password
            assert r.status_code == 422 and marker not in r.text


async def test_huge_part_headers_in_an_upload_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flac = lying_flac(tmp_path, real_s=3, declared_s=3).read_bytes()
    async with local_gateway(tmp_path, monkeypatch, MAX_UPLOAD_SIZE_MB="1") as gw:
        token, _ = await gw.token()
        async with gw.client(token) as c:
            patient = (await c.post("/api/patients", json={"name": "P"})).json()["id"]
            b = b"tbboundary"
            body = (
                b"--" + b + b'\r\nContent-Disposition: form-data; name="patient_id"\r\n\r\n' + patient.encode()
                + b"\r\n--" + b + b'\r\nContent-Disposition: form-data; name="file"; filename="s.flac"\r\n'
                + b"X-Junk: " + b"j" * (512 * 1024) + b"\r\n\r\n" + flac + b"\r\n--" + b + b"--\r\n"
            )  # fmt: skip
            multipart = {"content-type": "multipart/form-data; boundary=tbboundary"}
            r = await c.post("/api/sessions/upload", content=body, headers=multipart)
            assert r.status_code == 400 and "header is too long" in r.text, r.text  # not "malformed"
            long_name = body.replace(b"X-Junk: " + b"j" * (512 * 1024) + b"\r\n", b"").replace(
                b'filename="s.flac"', b'filename="' + b"n" * 5000 + b'.flac"'
            )
            r = await c.post("/api/sessions/upload", content=long_name, headers=multipart)
            assert r.status_code == 400 and "file name" in r.text, r.text


async def test_nothing_hides_after_the_closing_boundary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A valid upload followed by megabytes of chunked junk: refused, not accepted with the junk unread."""
    flac = lying_flac(tmp_path, real_s=3, declared_s=3).read_bytes()
    async with local_gateway(tmp_path, monkeypatch, MAX_UPLOAD_SIZE_MB="1") as gw:
        token, _ = await gw.token()
        async with gw.client(token) as c:
            patient = (await c.post("/api/patients", json={"name": "P"})).json()["id"]

            async def body() -> AsyncIterator[bytes]:
                yield b'--bb\r\nContent-Disposition: form-data; name="patient_id"\r\n\r\n' + patient.encode()
                yield b'\r\n--bb\r\nContent-Disposition: form-data; name="file"; filename="s.flac"\r\n\r\n'
                yield flac + b"\r\n--bb--\r\n"
                async for junk in _chunks(3 * MiB):
                    yield junk

            r = await c.post(
                "/api/sessions/upload", content=body(), headers={"content-type": "multipart/form-data; boundary=bb"}
            )
            assert r.status_code in (400, 413), r.text
