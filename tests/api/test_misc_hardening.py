"""Issue 13, defects 8-11: a speaker rename keeps its role and names are capped; the data directory is
private to the service user; the codec CORS origin follows TEMPORAL_UI_PORT; audio errors do not leak
ffmpeg internals (memory addresses, paths)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.support.gateway import local_gateway, lying_flac
from therapybridge.db import SessionRecord, session_scope
from therapybridge.document import Segment, SessionDocument, Speaker
from therapybridge.domain.transcript import transcript_text
from therapybridge.settings import Settings
from therapybridge.speech.audio import InvalidAudio, validate


async def _processed_session(user_id: str) -> str:
    segments = [
        Segment(start=0.0, end=2.0, speaker="SPEAKER_00", role="therapist", text="How was your week?"),
        Segment(start=2.0, end=4.0, speaker="SPEAKER_01", role="client", text="Better, thanks."),
    ]
    speakers = [Speaker(label="SPEAKER_00", role="therapist"), Speaker(label="SPEAKER_01", role="client")]
    doc = SessionDocument(
        id="sess-speakers", therapist_id=user_id, status="processed", transcript_segments=segments, speakers=speakers
    )
    doc.transcript_text = transcript_text(segments, speakers)
    async with session_scope() as db:
        db.add(SessionRecord(id=doc.id, therapist_id=user_id, status="processed", document=doc.model_dump(mode="json")))
        await db.commit()
    return doc.id


async def test_renaming_a_speaker_keeps_its_role_and_names_are_capped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with local_gateway(tmp_path, monkeypatch) as gw:
        token, user_id = await gw.token()
        sid = await _processed_session(user_id)
        url = f"/api/sessions/{sid}/speakers"
        async with gw.client(token) as c:
            r = await c.patch(url, json={"speakers": [{"label": "SPEAKER_01", "name": "Sam"}]})
            assert r.status_code == 200, r.text
            doc = r.json()
            client = next(s for s in doc["speakers"] if s["label"] == "SPEAKER_01")
            assert client == {**client, "role": "client", "name": "Sam"}
            assert [s["role"] for s in doc["transcript_segments"]] == ["therapist", "client"]
            assert "Sam" in doc["transcript_text"]
            # A role fix keeps the name; an explicit null clears.
            r = await c.patch(url, json={"speakers": [{"label": "SPEAKER_01", "role": None}]})
            client = next(s for s in r.json()["speakers"] if s["label"] == "SPEAKER_01")
            assert client["name"] == "Sam" and client["role"] is None

            for bad in ("x" * 81, "x" * 1_000_000, "Sam\u202eevil", "a\nb"):
                r = await c.patch(url, json={"speakers": [{"label": "SPEAKER_01", "name": bad}]})
                assert r.status_code in (413, 422), (len(bad), r.status_code)
                assert bad[:50] not in r.text


async def test_data_directory_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flac = lying_flac(tmp_path, real_s=3, declared_s=3)
    async with local_gateway(tmp_path, monkeypatch) as gw:
        token, _ = await gw.token()
        async with gw.client(token) as c:
            patient = (await c.post("/api/patients", json={"name": "P"})).json()["id"]
            r = await c.post(
                "/api/sessions/upload", files={"file": ("s.flac", flac.read_bytes())}, data={"patient_id": patient}
            )
            assert r.status_code == 202, r.text
        paths = [gw.data_dir, *gw.data_dir.rglob("*")]
        assert any(p.suffix == ".flac" for p in paths) and any(p.name == "therapybridge.db" for p in paths)
        for p in paths:
            mode = stat.S_IMODE(p.stat().st_mode)
            assert mode & 0o077 == 0, f"{p.relative_to(tmp_path)} is {oct(mode)}"


def test_codec_cors_origin_follows_the_ui_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEMPORAL_UI_ORIGIN", raising=False)
    default = Settings(_env_file=None, temporal_ui_port=9233)  # type: ignore[call-arg]
    assert default.temporal_ui_origin == "http://localhost:9233"
    explicit = Settings(_env_file=None, temporal_ui_port=9233, temporal_ui_origin="https://t.example.org")  # type: ignore[call-arg]
    assert explicit.temporal_ui_origin == "https://t.example.org"


async def test_codec_cors_preflight_uses_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEMPORAL_UI_ORIGIN", raising=False)
    async with local_gateway(tmp_path, monkeypatch, TEMPORAL_UI_PORT="9233") as gw, gw.client() as c:
        preflight = {"access-control-request-method": "POST"}
        r = await c.options("/codec/decode", headers={**preflight, "origin": "http://localhost:9233"})
        assert r.headers.get("access-control-allow-origin") == "http://localhost:9233"
        r = await c.options("/codec/decode", headers={**preflight, "origin": "http://localhost:8233"})
        assert r.headers.get("access-control-allow-origin") is None


def test_audio_errors_do_not_leak_ffmpeg_internals(tmp_path: Path) -> None:
    whole = lying_flac(tmp_path, real_s=20, declared_s=20).read_bytes()
    truncated = tmp_path / "truncated.flac"
    truncated.write_bytes(whole[: len(whole) // 2])
    garbage = tmp_path / "garbage.flac"
    garbage.write_bytes(b"fLaC\x00\x00\x00\x22" + b"garbage" * 40)
    for path in (truncated, garbage):
        with pytest.raises(InvalidAudio) as err:
            validate(path)
        message = str(err.value)
        assert "0x" not in message and " @ " not in message and str(tmp_path) not in message, message
        assert len(message) < 200


def test_a_processed_session_keeps_only_its_stage_results_unless_audio_is_retained(tmp_path: Path) -> None:
    from therapybridge.activities.save import apply_retention
    from therapybridge.blobs import BlobStore, SessionKeys, upload_key

    store, keys = BlobStore(tmp_path), SessionKeys("s1")
    written = [upload_key("s1", "a.FLAC"), keys.audio, keys.vad, keys.window(0), *keys.stage_results()]
    for retain, status, kept in [
        (False, "processed", keys.stage_results()),
        (True, "processed", keys.stage_results() | {upload_key("s1", "a.flac"), keys.audio}),
        (False, "failed", {upload_key("s1", "a.flac")}),  # the upload stays for a retry
    ]:
        for k in written:
            store.write_bytes(k, b"x")
        apply_retention("s1", status, store, retain_audio=retain)
        assert set(store.session_keys("s1")) == kept
        store.delete_session("s1")
