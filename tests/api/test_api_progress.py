"""One synthetic therapy session end to end through the gateway: upload over HTTP, two WebSocket
clients and one SSE client watch it to the end (progress never goes backwards; pings and keep-alives
arrive; the final message says processed), an SSE client resumes with Last-Event-ID, GET returns the
document, every export parses, and a client that connects afterwards gets the final state at once.
Nothing of the patient's (name, file name, words) reaches the gateway's log."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path

import httpx
import pytest
import srt
import webvtt
from pyannote.database.util import load_rttm

from tests.support.api import (
    AUDIO_NAME,
    PATIENT_NAME,
    Account,
    Api,
    SseEvent,
    upload,
    watch_sse,
    watch_ws,
)
from tests.support.harness import CORPUS
from therapybridge.api.live import parse_event_id

pytest_plugins = ["tests.support.api_fixtures"]
pytestmark = pytest.mark.slow

SESSION = CORPUS / "synthetic" / "d04.flac"  # 145 s, two speakers
MESSAGE_KEYS = {
    "session_id",
    "status",
    "progress",
    "message",
    "updated_at",
    "estimated_time_remaining",
    "error",
}


def _check_ws(messages: list[dict], close_code: int, session_id: str) -> list[int]:
    progress = [m for m in messages if m["type"] == "progress"]
    assert close_code == 1000
    assert any(m["type"] == "ping" for m in messages), "no ping in a run longer than the ping interval"
    assert all(set(m) >= MESSAGE_KEYS and m["session_id"] == session_id for m in progress)
    percents = [m["progress"] for m in progress]
    assert percents == sorted(percents), f"progress went backwards: {percents}"
    assert percents[-1] == 100 and len(set(percents)) >= 4
    final = progress[-1]
    assert final["status"] == "processed" and final["final"] is True and final["error"] is None
    assert not any(m["final"] for m in progress[:-1])
    assert messages[-1] is final, "the final message ends the stream"
    assert {"preprocessing", "transcribing"} <= {m["status"] for m in progress}
    return percents


def _check_sse(status: int, events: list[SseEvent], comments: int) -> None:
    assert status == 200
    assert comments >= 1  # keep-alive comments between events
    assert [e.event for e in events[:-1]] == ["progress"] * (len(events) - 1)
    assert events[-1].event == "complete" and events[-1].data["status"] == "processed"
    percents = [e.data["progress"] for e in events]
    assert percents == sorted(percents) and percents[-1] == 100
    keys = [parse_event_id(e.id) for e in events]
    assert all(k is not None for k in keys) and keys == sorted(keys)  # type: ignore[type-var]


async def _resume_midway(api: Api, who: Account, session_id: str) -> tuple[str, list[SseEvent]]:
    """Read the SSE stream until two progress events, drop it, reconnect with Last-Event-ID."""
    seen: list[str] = []
    url = f"/api/sessions/{session_id}/status/stream"
    async with api.client(who.token, timeout=None) as c, c.stream("GET", url) as r:
        async for line in r.aiter_lines():
            if line.startswith("id:"):
                seen.append(line[3:].strip())
                if len(seen) == 2:
                    break
    last = seen[-1]
    _, events, _ = await watch_sse(api, session_id, headers={**who.headers, "Last-Event-ID": last})
    return last, events


async def test_session_over_websocket_sse_and_exports(api: Api, therapist: Account, tmp_path: Path) -> None:
    r = await upload(api, therapist, SESSION, name=AUDIO_NAME)
    assert r.status_code == 202, r.text
    sid = r.json()["id"]

    ws1, ws2, sse, resumed = await asyncio.gather(
        watch_ws(api, sid, therapist.token),
        watch_ws(api, sid, therapist.token),
        watch_sse(api, sid, params={"token": therapist.token}),  # EventSource style: token in the query
        _resume_midway(api, therapist, sid),
    )
    _check_ws(*ws1, sid)
    _check_ws(*ws2, sid)
    _check_sse(*sse)
    last_id, after = resumed
    assert after and after[-1].event == "complete"
    assert all(parse_event_id(e.id) > parse_event_id(last_id) for e in after)  # type: ignore[operator]

    async with api.client(therapist.token) as c:
        doc = (await c.get(f"/api/sessions/{sid}")).json()
        assert doc["status"] == "processed" and doc["progress"] == 100 and doc["error"] is None
        assert doc["audio_filename"] == AUDIO_NAME and doc["duration_seconds"] == pytest.approx(145, abs=2)
        assert len(doc["speakers"]) == 2 and doc["transcript_segments"] and doc["speaker_turns"]
        assert doc["extracted_notes"] and doc["extracted_notes"]["key_topics"]

        exports = {name: await c.get(f"/api/sessions/{sid}/{name}") for name in _EXPORTS}
    assert all(r.status_code == 200 for r in exports.values())
    _check_exports(exports, doc, tmp_path)

    # Connecting after the end: the final state at once, then the stream closes.
    async with asyncio.timeout(5):
        late, code = await watch_ws(api, sid, therapist.token)
    assert code == 1000 and [m["status"] for m in late if m["type"] == "progress"] == ["processed"]
    async with asyncio.timeout(5):
        status, events, _ = await watch_sse(api, sid, headers=therapist.headers)
    assert status == 200 and [e.event for e in events] == ["complete"]
    # EventSource reconnecting after the final event is told to stop (204).
    status, _, _ = await watch_sse(api, sid, headers={**therapist.headers, "Last-Event-ID": events[-1].id or ""})
    assert status == 204

    # Nothing that identifies the patient reached the gateway's log, nor the token from the query.
    log = api.log.read_text(errors="replace")
    first_words = doc["transcript_segments"][0]["text"][:30]
    for secret in (PATIENT_NAME, AUDIO_NAME, "Zelda", first_words, therapist.token):
        assert secret not in log, "patient data or a token in the gateway log"


_EXPORTS = ("transcript.txt", "transcript.srt", "transcript.vtt", "transcript.json", "diarization.rttm")


def _check_exports(exports: dict[str, httpx.Response], doc: dict, tmp_path: Path) -> None:
    n = len([s for s in doc["transcript_segments"] if s["text"].strip()])
    subs = list(srt.parse(exports["transcript.srt"].text, ignore_errors=False))
    assert len(subs) == n and all(s.end > s.start for s in subs)
    assert all(a.start <= b.start for a, b in itertools.pairwise(subs))
    assert exports["transcript.srt"].headers["content-type"].startswith("application/x-subrip")

    captions = webvtt.from_string(exports["transcript.vtt"].text).captions
    assert len(captions) == n and all(c.end > c.start for c in captions)
    assert {c.voice for c in captions} <= {"Therapist", "Client", "Speaker", "SPEAKER_00", "SPEAKER_01"}

    rttm = tmp_path / "d.rttm"
    rttm.write_text(exports["diarization.rttm"].text)
    annotation = load_rttm(rttm)[doc["id"]]
    assert len(annotation.labels()) == 2
    assert len(exports["diarization.rttm"].text.splitlines()) == len(doc["speaker_turns"])

    assert json.loads(exports["transcript.json"].text)["id"] == doc["id"]
    txt = exports["transcript.txt"].text
    assert txt.count("\n\n") == n - 1 and txt.startswith("[00:00:0")
    assert "attachment" in exports["transcript.txt"].headers["content-disposition"]
    assert AUDIO_NAME not in exports["transcript.txt"].headers["content-disposition"]
