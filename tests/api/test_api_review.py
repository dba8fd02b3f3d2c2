"""Reviewing a processed session over HTTP: note formats, speaker corrections, voice enrolment, audio."""

from __future__ import annotations

import pytest

from tests.support.api import Account, Api, upload, wait_status
from tests.support.harness import CORPUS

pytest_plugins = ["tests.support.api_fixtures"]
pytestmark = pytest.mark.slow


async def test_review_a_processed_session(api: Api, therapist: Account, other_therapist: Account) -> None:
    r = await upload(api, therapist, CORPUS / "real" / "jfk.flac")
    assert r.status_code == 202, r.text
    sid = r.json()["id"]
    doc = await wait_status(api, therapist, sid, {"processed", "failed"})
    assert doc["status"] == "processed"
    label = doc["speakers"][0]["label"]

    async with api.client(therapist.token) as c:
        for fmt, heading in (("soap", "Subjective"), ("dap", "Data"), ("birp", "Behavior"), ("girp", "Goals")):
            r = await c.get(f"/api/sessions/{sid}/notes", params={"format": fmt})
            assert r.status_code == 200 and heading.lower() in r.text.lower(), (fmt, r.text[:200])
        assert (await c.get(f"/api/sessions/{sid}/notes", params={"format": "essay"})).status_code == 422

        r = await c.patch(f"/api/sessions/{sid}/speakers", json={"speakers": [{"label": "SPEAKER_09"}]})
        assert r.status_code == 400 and "SPEAKER_09" in r.json()["detail"]
        body = {
            "speakers": [{"label": label, "role": "therapist", "name": "Dr. Rivera"}],
            "enroll_therapist_voice": True,
        }
        r = await c.patch(f"/api/sessions/{sid}/speakers", json=body)
        assert r.status_code == 200, r.text
        updated = r.json()
        assert updated["speakers"][0] == {**updated["speakers"][0], "role": "therapist", "name": "Dr. Rivera"}
        assert all(s["role"] == "therapist" for s in updated["transcript_segments"])
        assert updated["transcript_text"].startswith("Dr. Rivera: ")
        assert (await c.get(f"/api/sessions/{sid}")).json()["transcript_text"].startswith("Dr. Rivera: ")
        assert (await c.get("/api/me/voiceprint")).json() == {"enrolled": True}
        assert (await c.delete("/api/me/voiceprint")).status_code == 204
        assert (await c.get("/api/me/voiceprint")).json() == {"enrolled": False}

        # Retention is off by default: the audio is gone after processing, and the document says so.
        r = await c.get(f"/api/sessions/{sid}/audio")
        assert r.status_code == 404 and "RETAIN_AUDIO" in r.json()["detail"]
        assert doc["audio_retained"] is False
        assert (await c.get("/api/config")).json()["retain_audio"] is False
        # An 11-s single speaker is no therapy session: the document warns instead of trusting roles and notes.
        assert {w["code"] for w in doc["quality_warnings"]} >= {"speakers", "little_speech"}

    async with api.client(other_therapist.token) as c:
        assert (await c.get(f"/api/sessions/{sid}/notes")).status_code == 404
        assert (await c.patch(f"/api/sessions/{sid}/speakers", json={"speakers": []})).status_code == 404
        assert (await c.get(f"/api/sessions/{sid}/audio")).status_code == 404
    async with api.client() as c:
        assert (await c.get(f"/api/sessions/{sid}/notes")).status_code == 401


async def test_an_upload_can_keep_its_recording(api: Api, therapist: Account) -> None:
    """Retention per session: keep_audio=true keeps this recording although the clinic's default
    (RETAIN_AUDIO) is off; playback works and the document says the audio is kept."""
    fields = {"patient_id": therapist.patient_id, "keep_audio": "true"}
    r = await upload(api, therapist, CORPUS / "real" / "jfk.flac", data=fields)
    assert r.status_code == 202, r.text
    doc = await wait_status(api, therapist, r.json()["id"], {"processed", "failed"})
    assert doc["status"] == "processed" and doc["audio_retained"] is True
    async with api.client(therapist.token) as c:
        r = await c.get(f"/api/sessions/{doc['id']}/audio")
        assert r.status_code == 200 and len(r.content) > 1000
        bad = await upload(api, therapist, CORPUS / "real" / "jfk.flac", data={**fields, "keep_audio": "maybe"})
        assert bad.status_code == 422 and "keep_audio" in bad.text


async def test_a_meeting_excerpt_is_flagged_as_not_a_therapy_recording(api: Api, therapist: Account) -> None:
    """A 30-s AMI meeting excerpt (several speakers, little speech) through the real pipeline: the
    document carries quality warnings, so the page shows them instead of confident clinical prose."""
    r = await upload(api, therapist, CORPUS / "real" / "dev00.wav")
    assert r.status_code == 202, r.text
    doc = await wait_status(api, therapist, r.json()["id"], {"processed", "failed"})
    assert doc["status"] == "processed"
    codes = {w["code"] for w in doc["quality_warnings"]}
    assert "little_speech" in codes, doc["quality_warnings"]
    assert all(w["message"] for w in doc["quality_warnings"])
