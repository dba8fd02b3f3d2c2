"""The time-left estimate shown with a session's progress (the CLI bar and the gateway's streams). When
nobody works on the session, domain/stalls.py's rule replaces it with "waiting for a ... worker".

The estimate comes from measured speed, never from the percent alone: the percent bands are fixed
(preprocessing fills 2..25, the windows 25..75), so extrapolating elapsed time over the percent said
"a few seconds left" at 25 % with 14 s to go and "about 2 min left" 4 s before the end. Here the only
stage with a number is transcription, where the windows done and their audio seconds give a rate;
before the first window finishes, and in the short stages after the last one, there is no honest
number and the answer is None (the page then says what it is doing instead of a countdown).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Too little measured to extrapolate from: a rate from one sliver of audio or a second of wall time
# swings wildly.
MIN_MEASURED_AUDIO_S = 1.0
MIN_MEASURED_WALL_S = 2.0


@dataclass(frozen=True)
class Measured:
    """What the workflow has measured of one run so far (from its progress query)."""

    status: str
    transcribe_elapsed_s: float | None  # wall seconds since the windows were scheduled; None: not yet
    audio_seconds_total: float  # audio in all transcription windows
    audio_seconds_done: float  # audio in finished windows (plus the running ones' heartbeat share)


def estimate_left(m: Measured) -> float | None:
    """Seconds until transcription ends, from the measured transcription rate; None when there is no
    measurement to stand on (not yet transcribing, no audio done yet, or past transcription)."""
    if m.status != "transcribing" or m.transcribe_elapsed_s is None or m.audio_seconds_total <= 0:
        return None
    if m.audio_seconds_done < MIN_MEASURED_AUDIO_S or m.transcribe_elapsed_s < MIN_MEASURED_WALL_S:
        return None
    if m.audio_seconds_done >= m.audio_seconds_total:
        return None  # the windows are done; what remains (speakers, notes) has no measured speed
    rate = m.audio_seconds_done / m.transcribe_elapsed_s  # audio seconds per wall second
    return round((m.audio_seconds_total - m.audio_seconds_done) / rate, 1)


def elapsed_since(iso: str | None, now: datetime | None = None) -> float | None:
    """Seconds since an ISO time (the workflow's timestamps); None when there is none to read."""
    if not iso:
        return None
    try:
        start = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return ((now or datetime.now(start.tzinfo)) - start).total_seconds()
