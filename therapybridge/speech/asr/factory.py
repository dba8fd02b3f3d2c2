"""The one place that turns `Settings` into a transcription backend: ASR_PROVIDER picks faster-whisper
(local) or the OpenAI API, and each backend gets only its own small frozen config.

    get_transcriber(asr_config(get_settings()))

One transcriber per process and configuration, loaded on first use and shared by every activity
thread (a Whisper model is loaded once; the OpenAI client is thread-safe).
"""

from __future__ import annotations

import threading

from therapybridge.settings import Settings
from therapybridge.speech.asr.base import Transcriber
from therapybridge.speech.asr.faster_whisper import WhisperConfig, WhisperTranscriber, cpu_count, resolve_device
from therapybridge.speech.asr.openai import OpenAIAsrConfig, OpenAITranscriber

AsrConfig = WhisperConfig | OpenAIAsrConfig


def asr_language(value: str) -> str | None:
    """ASR_LANGUAGE → Whisper's `language`: None (detect per window) for 'auto' or empty. English by
    default: detection on a multilingual model costs a pass and can mislabel a quiet window."""
    value = value.strip().lower()
    return None if value in ("", "auto") else value


def worker_concurrency(s: Settings, device: str | None = None) -> int:
    """Transcription activities one gpu worker runs at once (GPU_WORKER_CONCURRENCY; 0 = auto).

    Auto: one per GPU; on CPU one per core, each single-threaded. Whisper tiny decodes small
    matrices, so two windows side by side on two cores finish sooner than one window on two threads.
    """
    if s.gpu_worker_concurrency > 0:
        return s.gpu_worker_concurrency
    if (device or resolve_device(s.asr_device)) == "cuda":
        return 1
    return max(1, cpu_count() // max(1, s.asr_cpu_threads))


def cpu_threads_for(s: Settings, concurrency: int) -> int:
    """CTranslate2 threads per transcription (ASR_CPU_THREADS; 0 = the cores shared out among the
    concurrent transcriptions). Never CTranslate2's own default of 4: on a 2-core host that
    oversubscribes the cores and its spinning threads slow the diarizer running beside it."""
    if s.asr_cpu_threads > 0:
        return s.asr_cpu_threads
    return max(1, cpu_count() // max(1, concurrency))


def whisper_config(s: Settings) -> WhisperConfig:
    """The faster-whisper configuration, whatever ASR_PROVIDER says (the gpu worker's thread plan and
    the benchmarks size the local model from it)."""
    device = resolve_device(s.asr_device)
    concurrency = worker_concurrency(s, device)
    return WhisperConfig(
        model=s.asr_model,
        device=device,
        compute_type=s.asr_compute_type,
        beam_size=s.asr_beam_size,
        language=asr_language(s.asr_language),
        cpu_threads=cpu_threads_for(s, concurrency),
        num_workers=concurrency,
        batch_size=s.asr_batch_size,
        cache_dir=s.model_cache_dir,
    )


def asr_config(s: Settings) -> AsrConfig:
    """The configured backend's config (ASR_PROVIDER)."""
    if s.asr_provider == "openai":
        return OpenAIAsrConfig(
            model=s.openai_transcribe_model,
            api_key=s.openai_api_key,
            base_url=s.openai_base_url,
            timeout_s=s.openai_timeout_s,
            language=asr_language(s.asr_language),
        )
    return whisper_config(s)


_lock = threading.Lock()
_cache: dict[AsrConfig, Transcriber] = {}


def get_transcriber(cfg: AsrConfig) -> Transcriber:
    """The backend for `cfg`, built on first use and kept for the process. Raises ModelUnavailable
    (speech/models.py) when a local model cannot be had."""
    with _lock:
        if cfg not in _cache:
            backend = OpenAITranscriber if isinstance(cfg, OpenAIAsrConfig) else WhisperTranscriber
            _cache[cfg] = backend(cfg)  # type: ignore[arg-type]
        return _cache[cfg]
