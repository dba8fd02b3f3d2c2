"""The time-left estimate and the "waiting for a worker" rule (domain/progress.py), on the cases the
clinician walk-through caught (issue 16): a countdown from the percent alone said "a few seconds left"
at 25 % with 14 s to go, "about 2 min left" 4 s before the end, and "a few seconds left" for minutes
while the gpu worker was frozen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from therapybridge import messages as m
from therapybridge.api.live import snapshot_from_progress, with_stall
from therapybridge.domain.progress import Measured, elapsed_since, estimate_left
from therapybridge.domain.stalls import Stall

T0 = datetime(2026, 11, 30, 12, 3, tzinfo=UTC)


def test_no_countdown_before_any_audio_is_transcribed() -> None:
    # 25 %: preprocessing just ended, the windows were scheduled a moment ago, none is done.
    assert estimate_left(Measured("transcribing", 0.5, 120.0, 0.0)) is None
    assert estimate_left(Measured("transcribing", 3.0, 120.0, 0.0)) is None
    assert estimate_left(Measured("preprocessing", None, 0.0, 0.0)) is None
    assert estimate_left(Measured("queued", None, 0.0, 0.0)) is None


def test_no_countdown_in_the_stages_nobody_measured() -> None:
    # 4 s before the end the old estimate said "about 2 min": notes and saving have no measured speed.
    for status in ("diarizing", "merging", "extracting_notes", "saving"):
        assert estimate_left(Measured(status, 300.0, 120.0, 120.0)) is None
    assert estimate_left(Measured("transcribing", 300.0, 120.0, 120.0)) is None  # all windows done


def test_countdown_follows_the_measured_rate() -> None:
    # 60 of 120 audio seconds in 10 s: 6x real time, 10 s to go.
    assert estimate_left(Measured("transcribing", 10.0, 120.0, 60.0)) == 10.0
    # Slower later: the same 60 s done after 30 s means 30 s to go, not the earlier 10.
    assert estimate_left(Measured("transcribing", 30.0, 120.0, 60.0)) == 30.0


def test_a_frozen_worker_makes_the_estimate_grow_not_sit_at_a_few_seconds() -> None:
    # Half the audio done at 20 s, then nothing for 3 minutes.
    early = estimate_left(Measured("transcribing", 20.0, 120.0, 60.0))
    later = estimate_left(Measured("transcribing", 200.0, 120.0, 60.0))
    assert early == 20.0 and later == 200.0


def test_too_little_measured_is_no_estimate() -> None:
    assert estimate_left(Measured("transcribing", 1.0, 120.0, 30.0)) is None  # one second of wall time
    assert estimate_left(Measured("transcribing", 10.0, 120.0, 0.4)) is None  # a sliver of audio


def test_the_stream_says_waiting_instead_of_a_countdown() -> None:
    now = T0 + timedelta(minutes=4)
    p = m.Progress(
        session_id="s",
        status="transcribing",
        progress=50,
        message="transcribing and identifying speakers",
        transcribe_started_at=(now - timedelta(seconds=20)).isoformat(),
        audio_seconds_total=120.0,
        audio_seconds_done=60.0,
    )
    assert snapshot_from_progress(p, now).estimated_time_remaining == 20.0
    # The rule of when a session waits is domain/stalls.py's (tests/unit/test_stalls.py); here, what it shows.
    snap = with_stall(snapshot_from_progress(p, now), Stall("s", "transcription", m.TRANSCRIBE_WINDOW, T0))
    assert snap.estimated_time_remaining is None and snap.waiting_for == "transcription worker"
    assert snap.message.startswith("waiting for a transcription worker since ") and snap.waiting_since == T0.isoformat()


def test_elapsed_since_reads_iso_times() -> None:
    assert elapsed_since(T0.isoformat(), T0 + timedelta(seconds=7)) == 7.0
    assert elapsed_since(None) is None and elapsed_since("not a time") is None
