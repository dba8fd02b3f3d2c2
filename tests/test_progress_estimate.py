"""The time-left estimate and the "waiting for a worker" rule (domain/progress.py), on the cases the
clinician walk-through caught (issue 16): a countdown from the percent alone said "a few seconds left"
at 25 % with 14 s to go, "about 2 min left" 4 s before the end, and "a few seconds left" for minutes
while the gpu worker was frozen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from therapybridge import messages as m
from therapybridge.api.live import snapshot_from_progress
from therapybridge.domain.progress import Measured, PendingActivity, elapsed_since, estimate_left, waiting_for_worker

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


def test_waiting_for_a_worker_only_after_the_threshold() -> None:
    fresh = PendingActivity(m.TRANSCRIBE_WINDOW, started=False, scheduled_at=T0)
    assert waiting_for_worker([fresh], T0 + timedelta(seconds=5)) is None
    w = waiting_for_worker([fresh], T0 + timedelta(seconds=45))
    assert w is not None and w.worker == "transcription worker" and w.since == T0


def test_a_held_activity_is_not_waiting() -> None:
    running = PendingActivity(m.DIARIZE, started=True, scheduled_at=T0, last_heartbeat_at=T0)
    assert waiting_for_worker([running], T0 + timedelta(minutes=10)) is None


def test_waiting_since_the_last_sign_of_life_and_the_kind_of_worker() -> None:
    # A frozen gpu worker: its attempt heartbeated at 12:03, timed out, and the retry (12:04) sits unclaimed.
    retry = PendingActivity(
        m.TRANSCRIBE_WINDOW, started=False, scheduled_at=T0 + timedelta(minutes=1), last_heartbeat_at=T0
    )
    io = PendingActivity(m.NOTES, started=False, scheduled_at=T0 + timedelta(minutes=2))
    w = waiting_for_worker([io, retry], T0 + timedelta(minutes=5))
    assert w is not None and w.since == T0 and w.worker == "transcription worker"
    w = waiting_for_worker([io], T0 + timedelta(minutes=5))
    assert w is not None and w.worker == "processing worker"


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
    p.waiting_for, p.waiting_since = "transcription worker", T0.isoformat()
    snap = snapshot_from_progress(p, now)
    assert snap.estimated_time_remaining is None
    assert snap.message == "waiting for a transcription worker" and snap.waiting_since == T0.isoformat()


def test_elapsed_since_reads_iso_times() -> None:
    assert elapsed_since(T0.isoformat(), T0 + timedelta(seconds=7)) == 7.0
    assert elapsed_since(None) is None and elapsed_since("not a time") is None
