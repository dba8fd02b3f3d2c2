"""Session times as a clinician reads them: minutes and seconds from the start ("12:05")."""

from __future__ import annotations


def clock(t: float) -> str:
    m, s = divmod(round(max(0.0, t)), 60)
    return f"{m}:{s:02d}"
