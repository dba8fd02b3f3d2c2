"""What every diarization backend is: the `Diarizer` Protocol (speech regions in, speaker turns out)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from therapybridge.document import SpeakerTurn

Region = tuple[float, float]


class Diarizer(Protocol):
    def diarize(
        self,
        wav_path: Path,
        regions: list[Region],
        *,
        num_speakers: int | None = None,
        min_speakers: int | None = None,
        max_speakers: int | None = None,
        on_progress: Callable[[float], None] | None = None,
        checkpoint_dir: Path | None = None,
    ) -> list[SpeakerTurn]:
        """Speaker turns SPEAKER_00, SPEAKER_01, … (by first appearance) of the 16 kHz WAV, given its VAD
        regions and the request's speaker-count hints. `on_progress` gets a fraction in [0, 1] and may
        raise to cancel; `checkpoint_dir` keeps partial work for a retried attempt (if the backend can)."""
        ...
