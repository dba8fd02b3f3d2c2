"""Voice activity detection with the Silero VAD model that ships inside faster-whisper.

Run once per session (in preprocess); transcription windows and the diarizer both reuse the result.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from therapybridge.speech.audio import SAMPLE_RATE, load_wav16k, wav_duration

# VAD reads the audio in 30 s blocks so long sessions never sit whole in RAM: Silero's batched ONNX
# pass holds ~0.8 MB of activations per second of block (a 5-minute block peaked at +240 MiB in the io
# worker, whose budget is 500 MB; 30 s blocks on two threads peak at +96 MiB).
BLOCK_S = 30.0
VAD_OPTIONS = VadOptions(threshold=0.5, min_silence_duration_ms=300, speech_pad_ms=150, min_speech_duration_ms=120)
# Far-field fallback. Silero's 0.5 is tuned for close microphones: on a distant one (the AMI
# excerpts in shared/corpus/real) it gives speech probabilities of 0.01-0.1, and trn01 and trn02 got
# no region at all (no words; the session fails as "no speech"). A block where the strict pass finds
# speech in less than FAR_FIELD_BELOW of its length is run again with a start threshold of 0.25, an
# end threshold of 0.15 (the hysteresis keeps a faint word whole) and 100 ms of padding: trn01 and
# trn02 then get one region each, on their reference turns. Lowering the thresholds everywhere found
# more far-field speech too (pooled miss 16.1% -> 13.9%), but it moved the windows of near-field
# speech enough to flip the two-speaker clustering of dev00 / dev01 (DER 14% / 4% -> 44% / 53%); a
# block where the strict pass already hears speech keeps its regions.
FAR_FIELD_OPTIONS = VadOptions(
    threshold=0.25, neg_threshold=0.15, min_silence_duration_ms=300, speech_pad_ms=100, min_speech_duration_ms=120
)
FAR_FIELD_BELOW = 0.1

Region = tuple[float, float]


def _timestamps(audio: np.ndarray, start: float, options: VadOptions) -> list[Region]:
    return [
        (start + ts["start"] / SAMPLE_RATE, start + ts["end"] / SAMPLE_RATE)
        for ts in get_speech_timestamps(audio, options)
    ]


def _block_regions(
    wav_path: Path, start: float, end: float, options: VadOptions, far_field: VadOptions | None
) -> list[Region]:
    audio = load_wav16k(wav_path, start, end)
    regions = _timestamps(audio, start, options)
    if far_field is not None and speech_seconds(regions) < FAR_FIELD_BELOW * (end - start):
        return _timestamps(audio, start, far_field)
    return regions


def speech_regions(
    wav_path: Path,
    options: VadOptions = VAD_OPTIONS,
    threads: int | None = None,
    far_field: VadOptions | None = FAR_FIELD_OPTIONS,
) -> list[Region]:
    """Speech regions [start, end] in seconds over the whole file; blocks where `options` finds
    almost no speech are detected again with the more sensitive `far_field` options (None: never).

    Blocks are independent (Silero restarts its state per call), so they run on `threads` threads
    (default: every core): preprocessing is the one stage nothing else overlaps, and one Silero
    thread left the other core idle for ~7 s per hour of audio.
    """
    total = wav_duration(wav_path)
    starts = [i * BLOCK_S for i in range(int(total // BLOCK_S) + (1 if total % BLOCK_S else 0))]
    workers = max(1, min(len(starts), threads or len(os.sched_getaffinity(0))))
    with ThreadPoolExecutor(workers) as pool:  # onnxruntime and numpy release the GIL
        blocks = list(
            pool.map(lambda s: _block_regions(wav_path, s, min(total, s + BLOCK_S), options, far_field), starts)
        )
    regions: list[Region] = []
    for s, e in itertools.chain.from_iterable(blocks):
        # A region cut by the block boundary continues the previous one.
        if regions and s - regions[-1][1] < 0.05:
            regions[-1] = (regions[-1][0], e)
        else:
            regions.append((s, e))
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


def config_key() -> str:
    """What decides the regions (a cache key for benchmarks)."""
    return repr((VAD_OPTIONS, FAR_FIELD_OPTIONS, FAR_FIELD_BELOW, BLOCK_S))


def speech_seconds(regions: list[Region]) -> float:
    return sum(e - s for s, e in regions)


def regions_within(regions: list[Region] | list[list[float]], start: float, end: float) -> list[Region]:
    """The speech regions overlapping [start, end], clipped, in seconds from `start` (a window's
    own timeline): what a transcription of that window passes as `speech`."""
    return [(max(s, start) - start, min(e, end) - start) for s, e in regions if e > start and s < end]
