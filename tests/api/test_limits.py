"""Issue 13, defect 1: the duration limit holds on what decodes, whatever the header declares, and
per-user quotas (sessions in flight, stored hours) answer clear 429 / 413 errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.gateway import local_gateway, lying_flac
from therapybridge.db import SessionRecord, session_scope
from therapybridge.speech.audio import InvalidAudio, probe, to_wav16k, wav_duration


def test_a_header_that_understates_the_length_is_caught_while_decoding(tmp_path: Path) -> None:
    flac = lying_flac(tmp_path, real_s=20, declared_s=5)
    with pytest.raises(InvalidAudio, match=r"longer than the .* h limit"):
        probe(flac, max_duration_s=10)
    # Within the limit, the decoded length (not the header's 5 s) is what counts.
    assert probe(flac, max_duration_s=60).duration_seconds == pytest.approx(20, abs=0.5)


def test_conversion_stops_at_the_limit_and_leaves_no_files(tmp_path: Path) -> None:
    flac = lying_flac(tmp_path, real_s=20, declared_s=5)
    out = tmp_path / "out" / "audio16k.wav"
    with pytest.raises(InvalidAudio, match="longer than"):
        to_wav16k(flac, out, max_duration_s=10)
    assert list(out.parent.iterdir()) == []  # no partial WAV, no float32 temp file
    to_wav16k(flac, out, max_duration_s=60)
    assert wav_duration(out) == pytest.approx(20, abs=0.1)


async def test_upload_of_a_lying_header_past_the_limit_is_400(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flac = lying_flac(tmp_path, real_s=20, declared_s=5)
    async with local_gateway(tmp_path, monkeypatch, MAX_DURATION_HOURS=str(10 / 3600)) as gw:
        token, user_id = await gw.token()
        async with gw.client(token) as c:
            patient = (await c.post("/api/patients", json={"name": "P"})).json()["id"]
            r = await c.post(
                "/api/sessions/upload", files={"file": ("s.flac", flac.read_bytes())}, data={"patient_id": patient}
            )
        assert r.status_code == 400, r.text
        assert "longer than" in r.json()["detail"]
        async with session_scope() as db:
            assert (await db.exec(_rows(user_id))).all() == []


async def test_quota_of_sessions_in_flight_is_429_before_the_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flac = lying_flac(tmp_path, real_s=3, declared_s=3)
    async with local_gateway(tmp_path, monkeypatch, MAX_ACTIVE_SESSIONS_PER_USER="1") as gw:
        token, user_id = await gw.token()
        async with gw.client(token) as c:
            patient = (await c.post("/api/patients", json={"name": "P"})).json()["id"]

            async def up() -> tuple[int, str, str | None]:
                r = await c.post(
                    "/api/sessions/upload", files={"file": ("s.flac", flac.read_bytes())}, data={"patient_id": patient}
                )
                return r.status_code, r.text, r.headers.get("retry-after")

            assert (await up())[0] == 202
            code, text, retry = await up()
            assert code == 429 and "queued or processing" in text and retry
            async with session_scope() as db:  # the first one finishes: room again
                for row in (await db.exec(_rows(user_id))).all():
                    row.status = "processed"
                    db.add(row)
                await db.commit()
            assert (await up())[0] == 202


async def test_quota_of_stored_hours_is_413(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flac = lying_flac(tmp_path, real_s=20, declared_s=20)
    # 30 s of storage: one 20 s recording fits, a second does not.
    async with local_gateway(tmp_path, monkeypatch, MAX_STORED_HOURS_PER_USER=str(30 / 3600)) as gw:
        token, _ = await gw.token()
        async with gw.client(token) as c:
            patient = (await c.post("/api/patients", json={"name": "P"})).json()["id"]
            files = {"file": ("s.flac", flac.read_bytes())}
            r = await c.post("/api/sessions/upload", files=files, data={"patient_id": patient})
            assert r.status_code == 202, r.text
            r = await c.post("/api/sessions/upload", files=files, data={"patient_id": patient})
            assert r.status_code == 413, r.text
            assert "quota" in r.json()["detail"]


def _rows(user_id: str):  # type: ignore[no-untyped-def]
    from sqlmodel import col, select

    return select(SessionRecord).where(col(SessionRecord.therapist_id) == user_id)


async def test_preprocess_fails_non_retryably_past_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workflow's own conversion enforces the limit on decoded audio too (an upload validated under
    other settings, or a header that lies to ffprobe): a non-retryable InvalidAudio, and no WAV left."""
    from temporalio.exceptions import ApplicationError
    from temporalio.testing import ActivityEnvironment

    from therapybridge import messages as m
    from therapybridge.activities import common
    from therapybridge.activities.preprocess import preprocess
    from therapybridge.settings import get_settings

    monkeypatch.setenv("THERAPYBRIDGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MAX_DURATION_HOURS", str(10 / 3600))
    get_settings.cache_clear()
    try:
        store = common.blobs()
        flac = lying_flac(tmp_path, real_s=20, declared_s=5)
        store.path("s1/upload.flac").parent.mkdir(parents=True, exist_ok=True)
        store.path("s1/upload.flac").write_bytes(flac.read_bytes())
        inp = m.SessionInput(session_id="s1", upload_ref="s1/upload.flac", audio_filename="x.flac")
        with pytest.raises(ApplicationError) as err:
            await ActivityEnvironment().run(preprocess, inp)
        assert err.value.non_retryable and err.value.type == m.INVALID_AUDIO
        assert "longer than" in str(err.value)
        assert sorted(p.name for p in store.path("s1").iterdir()) == ["upload.flac"]
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
