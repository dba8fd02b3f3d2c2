"""How a gpu worker shares its cores between transcription and diarization (decided before models load)."""

from __future__ import annotations

from dataclasses import dataclass

from therapybridge.settings import Settings
from therapybridge.speech.asr.factory import whisper_config
from therapybridge.speech.asr.faster_whisper import cpu_count


@dataclass(frozen=True)
class ThreadPlan:
    """How a gpu worker shares its cores: `transcriptions` windows at once, each on `asr_threads`
    CTranslate2 threads, plus one diarization on `torch_threads`."""

    transcriptions: int
    asr_threads: int
    torch_threads: int
    device: str
    spare_diarization: bool  # a diarization runs beside the transcriptions (else it takes one's place)


def thread_plan(settings: Settings) -> ThreadPlan:
    asr = whisper_config(settings)
    torch_threads = settings.diarizer_threads
    if torch_threads <= 0:
        # On CPU the diarizer runs beside the transcriptions, which already use every core: one
        # torch thread. torch's default (one per core) made it 3x slower there (spinning threads).
        torch_threads = 0 if asr.device == "cuda" else 1
    # On a GPU both models share the device and the cores stay free; on CPU only when the
    # transcriptions leave a core for it (e.g. one single-threaded transcription on two cores).
    spare = asr.device == "cuda" or asr.num_workers * asr.cpu_threads + max(1, torch_threads) <= cpu_count()
    return ThreadPlan(asr.num_workers, asr.cpu_threads, torch_threads, asr.device, spare)


def apply_thread_plan(plan: ThreadPlan) -> None:
    """Before any model loads: torch fixes its thread pool on first use."""
    if plan.torch_threads > 0:
        import torch

        torch.set_num_threads(plan.torch_threads)
