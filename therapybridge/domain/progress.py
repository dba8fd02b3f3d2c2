"""The time-left estimate shown with a session's progress (the CLI bar and the gateway's streams)."""

from __future__ import annotations

from therapybridge.messages import DONE


def time_left(progress: int, elapsed_s: float, min_elapsed_s: float = 0.0) -> float | None:
    """Seconds left, extrapolated from the time spent on the percent done so far; None while there is
    nothing to extrapolate from (not started, finished, or too early to say)."""
    if not 0 < progress < DONE or elapsed_s <= min_elapsed_s:
        return None
    return round(max(0.0, elapsed_s * (DONE - progress) / progress), 1)
