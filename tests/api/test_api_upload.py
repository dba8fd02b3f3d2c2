"""Uploads over real HTTP to the real gateway: good input starts a workflow; every kind of bad input
is a clear 4xx that leaves no session row and no file behind; the size cap is enforced while the
bytes stream in (the gateway's memory stays flat); Idempotency-Key replays."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.api import (
    AUDIO_NAME,
    UPLOAD_CAP_MB,
    Account,
    Api,
    blob_dirs,
    orphans,
    session_count,
    upload,
    wait_status,
)
from tests.support.harness import CORPUS
from tests.support.stack import Stack
from therapybridge.temporal import workflow_id

pytest_plugins = ["tests.support.api_fixtures"]
JFK = CORPUS / "real" / "jfk.flac"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def truncated_mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("mp3") / "jfk.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(JFK), "-b:a", "64k", str(out)], check=True)
    full = out.read_bytes()
    return full[: len(full) // 3] + b"\x00" * 5000  # the recording stops a third of the way in


async def test_upload_starts_processing(api: Api, therapist: Account, stack: Stack) -> None:
    r = await upload(
        api, therapist, JFK, name=AUDIO_NAME, data={"patient_id": therapist.patient_id, "session_date": "2026-11-27"}
    )
    assert r.status_code == 202, r.text
    doc = r.json()
    assert doc["status"] == "queued" and doc["progress"] == 0
    assert doc["therapist_id"] == therapist.user_id and doc["patient_id"] == therapist.patient_id
    assert doc["audio_filename"] == AUDIO_NAME and doc["session_date"] == "2026-11-27"
    # The stored upload keeps only the extension (a file name can be patient data).
    assert stack.blobs.session_keys(doc["id"]) == [f"{doc['id']}/upload.flac"]
    desc = await stack.client.get_workflow_handle(workflow_id(doc["id"])).describe()
    assert desc.workflow_type == "SessionWorkflow"
    done = await wait_status(api, therapist, doc["id"], {"processed", "failed"})
    assert done["status"] == "processed" and done["duration_seconds"] == pytest.approx(11.0, abs=0.2)


def _bad_inputs(truncated: bytes) -> list[tuple[str, str, bytes, int, str]]:
    wav_header = JFK.read_bytes()  # real FLAC bytes under a .wav name
    return [
        ("wrong extension", "notes.txt", b"just some text", 415, "unsupported file type '.txt'"),
        ("no extension", "recording", JFK.read_bytes()[:4096], 415, "unsupported file type"),
        ("right extension, wrong bytes", "session.mp3", b"<html>not audio</html>" * 50, 415, "not mp3 audio"),
        ("flac bytes named .wav", "session.wav", wav_header, 415, "not wav audio"),
        ("truncated mp3", "session.mp3", truncated, 400, "corrupt or truncated"),
        ("empty file", "session.wav", b"", 400, "the file is empty"),
    ]


@pytest.mark.parametrize("case", range(6), ids=[c[0] for c in _bad_inputs(b"")])
async def test_bad_audio_is_rejected_without_a_trace(
    api: Api, therapist: Account, stack: Stack, truncated_mp3: bytes, case: int
) -> None:
    _, name, content, code, message = _bad_inputs(truncated_mp3)[case]
    rows, dirs = await session_count(therapist.user_id), blob_dirs(stack)
    r = await upload(api, therapist, name=name, content=content)
    assert r.status_code == code, r.text
    assert message in r.json()["detail"]
    assert await session_count(therapist.user_id) == rows
    assert blob_dirs(stack) - dirs == set(), "a rejected upload left files behind"


async def test_bad_forms_are_clear_4xx(api: Api, therapist: Account, other_therapist: Account, stack: Stack) -> None:
    rows, dirs = await session_count(), blob_dirs(stack)
    good = JFK.read_bytes()
    async with api.client(therapist.token) as c:
        # Missing fields: FastAPI-style 422 naming the field.
        r = await c.post("/api/sessions/upload", files={"file": ("a.flac", good)})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "patient_id"]
        r = await c.post(
            "/api/sessions/upload", data={"patient_id": therapist.patient_id}, files={"audio": ("a.flac", good)}
        )
        assert r.status_code == 400 and "unexpected file field" in r.json()["detail"]
        r = await c.post("/api/sessions/upload", data={"patient_id": therapist.patient_id})
        assert r.status_code == 400 and "multipart" in r.json()["detail"]  # urlencoded, no file at all
        r = await c.post(
            "/api/sessions/upload",
            data={"patient_id": therapist.patient_id, "session_date": "yesterday"},
            files={"file": ("a.flac", good)},
        )
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "session_date"]
        r = await c.post("/api/sessions/upload", content=b"not multipart", headers={"content-type": "text/plain"})
        assert r.status_code == 400
    # Unknown patient, and another therapist's patient: the same 404.
    for patient in ("00000000-0000-4000-8000-000000000000", other_therapist.patient_id):
        r = await upload(api, therapist, JFK, data={"patient_id": patient})
        assert r.status_code == 404 and r.json()["detail"] == "patient not found"
    # A body cut off mid-file (the client went away): nothing is kept.
    r = await _raw_upload(api, therapist, _truncated_body(therapist, good))
    assert r.status_code == 400 and "ended before" in r.json()["detail"]
    assert await session_count() == rows
    assert await orphans(stack, dirs) == set()


BAD_HINTS: list[tuple[dict[str, str], str, str]] = [
    ({"num_speakers": "0"}, "num_speakers", "from 1 to 10"),
    ({"num_speakers": "two"}, "num_speakers", "from 1 to 10"),
    ({"min_speakers": "11"}, "min_speakers", "from 1 to 10"),
    ({"max_speakers": "-1"}, "max_speakers", "from 1 to 10"),
    ({"min_speakers": "4", "max_speakers": "2"}, "min_speakers", "more than max_speakers"),
    ({"num_speakers": "5", "max_speakers": "3"}, "num_speakers", "more than max_speakers"),
    ({"session_type": "triad"}, "session_type", "individual, couple, family, group"),
]


async def test_speaker_hints_are_checked_stored_and_reach_the_workflow(
    api: Api, therapist: Account, stack: Stack
) -> None:
    from therapybridge import messages as m
    from therapybridge.db import SessionRecord, session_scope

    rows, dirs = await session_count(), blob_dirs(stack)
    for fields, field, message in BAD_HINTS:
        r = await upload(api, therapist, JFK, data={"patient_id": therapist.patient_id, **fields})
        assert r.status_code == 422, (fields, r.text)
        detail = r.json()["detail"][0]
        assert detail["loc"] == ["body", field] and message in detail["msg"], (fields, detail)
    assert await session_count() == rows
    assert await orphans(stack, dirs) == set()

    cases = [
        ({"session_type": "individual"}, (2, None, None, "individual")),
        ({"session_type": "family"}, (None, 3, 6, "family")),
        ({"session_type": "couple", "max_speakers": "4", "min_speakers": "2"}, (None, 2, 4, "couple")),
        ({"min_speakers": "2", "max_speakers": "3"}, (None, 2, 3, None)),
    ]
    for fields, (num, lo, hi, kind) in cases:
        r = await upload(api, therapist, JFK, data={"patient_id": therapist.patient_id, **fields})
        assert r.status_code == 202, r.text
        sid = r.json()["id"]
        async with session_scope() as db:
            row = await db.get(SessionRecord, sid)
            assert row is not None
            assert (row.num_speakers, row.min_speakers, row.max_speakers, row.session_type) == (num, lo, hi, kind)
        handle = stack.client.get_workflow_handle(workflow_id(sid))
        history = await handle.fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        inp, *_ = await stack.client.data_converter.decode(started.input.payloads, [m.SessionInput, dict])
        assert (inp.num_speakers, inp.min_speakers, inp.max_speakers) == (num, lo, hi)
        await wait_status(api, therapist, sid, {"processed", "failed"})


def _truncated_body(who: Account, content: bytes) -> tuple[bytes, str]:
    boundary = "tbtestboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="patient_id"\r\n\r\n{who.patient_id}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.flac"\r\n'
        "Content-Type: audio/flac\r\n\r\n"
    ).encode() + content[: len(content) // 2]  # no closing boundary
    return body, boundary


async def _raw_upload(api: Api, who: Account, body_and_boundary: tuple[bytes, str]) -> httpx.Response:
    body, boundary = body_and_boundary
    async with api.client(who.token) as c:
        return await c.post(
            "/api/sessions/upload", content=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
        )


class _PeakRss:
    """Samples a process's resident memory in a thread while the block runs."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.baseline = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()

    def __enter__(self) -> _PeakRss:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.baseline) / MiB


def _chunks(total: int, size: int = 256 * 1024) -> Iterator[bytes]:
    block = b"\xff\xfb\x90\x64" + b"\x00" * (size - 4)  # looks like MPEG frames; content never matters here
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        sent += n
        yield block[:n]


async def _streamed_body(who: Account, file_bytes: int) -> AsyncIterator[bytes]:
    boundary = "tbcapboundary"
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="patient_id"\r\n\r\n{who.patient_id}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp3"\r\n'
        "Content-Type: audio/mpeg\r\n\r\n"
    ).encode()
    for chunk in _chunks(file_bytes):
        yield chunk
        await asyncio.sleep(0)
    yield f"\r\n--{boundary}--\r\n".encode()


async def test_over_the_cap_is_413_and_memory_stays_flat(api: Api, therapist: Account, stack: Stack) -> None:
    """A chunked body (no Content-Length) 1.5x the cap: the gateway writes up to the cap to disk, answers
    413, keeps nothing. Had it buffered the body, its memory would have grown by the cap (64 MiB)."""
    rows, dirs = await session_count(), blob_dirs(stack)
    size = int(UPLOAD_CAP_MB * 1.5) * MiB
    with _PeakRss(api.proc.pid) as rss:
        async with api.client(therapist.token) as c:
            r = await c.post(
                "/api/sessions/upload",
                content=_streamed_body(therapist, size),
                headers={"content-type": "multipart/form-data; boundary=tbcapboundary"},
            )
    assert r.status_code == 413, r.text
    assert f"larger than {UPLOAD_CAP_MB} MB" in r.json()["detail"]
    assert rss.growth_mib < 24, f"gateway memory grew {rss.growth_mib:.0f} MiB during a {size // MiB} MiB upload"
    assert await session_count() == rows and await orphans(stack, dirs) == set()
    assert blob_dirs(stack) - dirs == set()


async def test_declared_length_over_the_cap_is_refused_before_reading(api: Api, therapist: Account) -> None:
    """Content-Length past the cap: 413 before a byte of the body is read (with Expect: 100-continue, as
    curl sends for big files, the client never sends the body at all)."""
    host, port = api.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        (
            "POST /api/sessions/upload HTTP/1.1\r\n"
            f"Host: {host}\r\nAuthorization: Bearer {therapist.token}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {(UPLOAD_CAP_MB + 2) * MiB}\r\nExpect: 100-continue\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    async with asyncio.timeout(10):
        status_line = await reader.readline()
    writer.close()
    assert status_line.split()[1] == b"413", status_line


async def test_just_under_the_cap_streams_through(api: Api, therapist: Account, stack: Stack, tmp_path: Path) -> None:
    """A file close to the cap is accepted by the cap check (this one is not audio: 415 after storing it,
    which proves the whole body was streamed to disk and then removed)."""
    dirs = blob_dirs(stack)
    with _PeakRss(api.proc.pid) as rss:
        async with api.client(therapist.token) as c:
            r = await c.post(
                "/api/sessions/upload",
                content=_streamed_body(therapist, (UPLOAD_CAP_MB - 1) * MiB),
                headers={"content-type": "multipart/form-data; boundary=tbcapboundary"},
            )
    assert r.status_code in (400, 415), r.text
    assert rss.growth_mib < 24
    assert blob_dirs(stack) - dirs == set()


async def test_idempotency_key_returns_the_same_session(api: Api, therapist: Account, stack: Stack) -> None:
    key = {"Idempotency-Key": f"visit-{time.time_ns()}"}
    first = await upload(api, therapist, JFK, headers=key)
    assert first.status_code == 202
    again = await upload(api, therapist, JFK, headers=key)
    assert again.status_code == 202 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == first.json()["id"]
    # Concurrent retries of one request: still one session.
    key2 = {"Idempotency-Key": f"visit-{time.time_ns()}"}
    before = await session_count(therapist.user_id)
    results = await asyncio.gather(*(upload(api, therapist, JFK, headers=key2) for _ in range(4)))
    assert {r.status_code for r in results} == {202}
    assert len({r.json()["id"] for r in results}) == 1
    assert await session_count(therapist.user_id) == before + 1
    # Keys are per therapist: without a key, a new session.
    other = await upload(api, therapist, JFK)
    assert other.json()["id"] != first.json()["id"]
    for r in (first, results[0], other):
        await wait_status(api, therapist, r.json()["id"], {"processed", "failed"})
