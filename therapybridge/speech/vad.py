"""Voice activity detection with the Silero VAD model that ships inside faster-whisper.

Run once per session (in preprocess); transcription windows and the diarizer both reuse the result.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from faster_whisper.vad import VadOptions, get_speech_timestamps

from therapybridge.speech.audio import SAMPLE_RATE, load_wav16k, wav_duration

BLOCK_S = 300.0  # VAD reads the audio in 5-minute blocks so long sessions never sit whole in RAM
VAD_OPTIONS = VadOptions(threshold=0.5, min_silence_duration_ms=300, speech_pad_ms=150, min_speech_duration_ms=120)

Region = tuple[float, float]


def speech_regions(wav_path: Path, options: VadOptions = VAD_OPTIONS) -> list[Region]:
    """Speech regions [start, end] in seconds over the whole file."""
    total = wav_duration(wav_path)
    regions: list[Region] = []
    block_start = 0.0
    while block_start < total:
        block_end = min(total, block_start + BLOCK_S)
        audio = load_wav16k(wav_path, block_start, block_end)
        for ts in get_speech_timestamps(audio, options):
            s = block_start + ts["start"] / SAMPLE_RATE
            e = block_start + ts["end"] / SAMPLE_RATE
            # A region cut by the block boundary continues the previous one.
            if regions and s - regions[-1][1] < 0.05:
                regions[-1] = (regions[-1][0], e)
            else:
                regions.append((s, e))
        block_start = block_end
    return [(round(s, 3), round(e, 3)) for s, e in regions]


def plan_windows(regions: list[Region], duration: float, target_s: float = 120.0) -> list[list[float]]:
    """Cut the timeline into transcription windows of about `target_s`, only inside silences.

    Each cut sits in the middle of the gap between two speech regions, so no word is split; the
    windows cover [0, duration] without gaps. A region longer than `target_s` stays whole.
    """
    if not regions:
        return []
    windows: list[list[float]] = []
    start = 0.0
    for prev, nxt in itertools.pairwise(regions):
        cut = (prev[1] + nxt[0]) / 2
        if cut - start >= target_s:
            windows.append([round(start, 3), round(cut, 3)])
            start = cut
    windows.append([round(start, 3), round(max(duration, regions[-1][1]), 3)])
    return windows


def speech_seconds(regions: list[Region]) -> float:
    return sum(e - s for s, e in regions)
