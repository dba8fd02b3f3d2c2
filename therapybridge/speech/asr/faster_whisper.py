"""Transcription with faster-whisper (CTranslate2), the default `Transcriber` (ASR_PROVIDER=local).

Models (`ASR_MODEL`, see speech/models.py): the bundled multilingual Whisper base (default), the
bundled tiny.en (the fast option), or any faster-whisper model folder or name; nothing is downloaded
at run time. One model per process (speech/asr/factory.py caches it), shared by every activity thread
of the worker: CTranslate2 runs `num_workers` transcriptions in parallel on one copy of the weights.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.transcribe import restore_speech_timestamps

from therapybridge.document import Segment, Word
from therapybridge.messages import ModelInfo
from therapybridge.speech.asr.gaps import unheard
from therapybridge.speech.audio import SAMPLE_RATE
from therapybridge.speech.models import ModelUnavailable, ResolvedModel, asr_model_info, resolve_asr_model
from therapybridge.speech.vad import VAD_OPTIONS


@dataclass(frozen=True)
class WhisperConfig:
    model: str  # ASR_MODEL as given: base, tiny.en, a folder or a name (resolved when loaded)
    device: str
    compute_type: str
    beam_size: int
    language: str | None
    cpu_threads: int
    num_workers: int = 1  # transcriptions that run in parallel in this process (shared weights)
    batch_size: int = 0  # > 1: faster-whisper's batched pipeline
    cache_dir: str = ""  # where the bundled base model is joined ("" = the user cache)

    def resolve(self) -> ResolvedModel:
        """The folder or name to load, and the model's name and version (cached per process)."""
        return resolve_asr_model(self.model, Path(self.cache_dir) if self.cache_dir else None)


def cpu_count() -> int:
    """Cores this process may use (the container's CPU set, not the host's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def compute_type_for(device: str, compute_type: str) -> str:
    if compute_type != "default":
        return compute_type
    return "float16" if device == "cuda" else "int8"


def transcribe_kwargs(cfg: WhisperConfig) -> dict[str, object]:
    """The decoding options, shared with the benchmark's plain faster-whisper baseline."""
    return {
        "language": cfg.language,
        "beam_size": cfg.beam_size,
        "word_timestamps": True,
        "vad_filter": True,
        "vad_parameters": VAD_OPTIONS,
    }


# Whisper's defaults (faster-whisper's no_speech_threshold and log_prob_threshold).
NO_SPEECH_BELOW = 0.6
LOGPROB_FLOOR = -1.0


def _speech(seg: object) -> bool:
    """Whisper's two tests for speech, both required (for the second pass, see _heard_again)."""
    return seg.no_speech_prob < NO_SPEECH_BELOW and seg.avg_logprob >= LOGPROB_FLOOR  # type: ignore[attr-defined]


class WhisperTranscriber:
    def __init__(self, cfg: WhisperConfig) -> None:
        self.cfg = cfg
        self.info = cfg.resolve()  # ModelUnavailable (or its ModelIntegrityError) when it cannot be had
        path = self.info.path
        try:
            self.model = WhisperModel(
                path,
                device=cfg.device,
                compute_type=compute_type_for(cfg.device, cfg.compute_type),
                cpu_threads=cfg.cpu_threads,
                num_workers=max(1, cfg.num_workers),
                local_files_only=True,
            )
        except Exception as exc:  # faster-whisper raises several types for a bad model
            raise ModelUnavailable(f"cannot load ASR model '{path}': {type(exc).__name__}") from exc
        self.batched = BatchedInferencePipeline(self.model) if cfg.batch_size > 1 else None
        # What the session document records as models.asr.
        self.model_info: ModelInfo = asr_model_info(
            self.info, cfg.device, compute_type_for(cfg.device, cfg.compute_type)
        )

    def transcribe(
        self,
        audio: np.ndarray,
        offset: float = 0.0,
        on_progress: Callable[[float], None] | None = None,
        speech: list[tuple[float, float]] | None = None,
    ) -> tuple[list[Segment], str]:
        """Transcribe 16 kHz float32 audio; times are shifted by `offset` (the window's start).

        `speech`: the session's VAD regions inside this audio (seconds from its start). Given, the
        model transcribes exactly those (as its own VAD filter would) instead of running Silero
        over the window again.
        """
        duration = len(audio) / SAMPLE_RATE
        window = audio
        kwargs = transcribe_kwargs(self.cfg)
        chunks: list[dict[str, int]] | None = None
        if speech is not None and self.batched is None:
            chunks = speech_chunks(speech, len(audio))
            if not chunks:
                return [], self.cfg.language or "en"
            audio = np.concatenate([audio[c["start"] : c["end"]] for c in chunks])
            kwargs.update(vad_filter=False, vad_parameters=None)
        if self.batched is not None:
            # A dict, so the pipeline caps each speech chunk at its 30 s input (an options object
            # would keep the unbounded cap, and audio past 30 s of a chunk would be dropped).
            vad = {k: v for k, v in asdict(VAD_OPTIONS).items() if k != "max_speech_duration_s"}
            kwargs.update(vad_parameters=vad)
            segments_iter, info = self.batched.transcribe(audio, batch_size=self.cfg.batch_size, **kwargs)
        else:
            segments_iter, info = self.model.transcribe(audio, **kwargs)
        if chunks is not None:  # back from the concatenated speech to the window's timeline
            segments_iter = restore_speech_timestamps(segments_iter, chunks, SAMPLE_RATE)
        segments: list[Segment] = []
        for seg in segments_iter:  # a generator: decoding happens as we iterate
            segments.append(_segment(seg, offset))
            if on_progress is not None and duration > 0:
                on_progress(min(1.0, seg.end / duration))
        if speech is not None:
            segments = self._heard_again(window, offset, speech, segments)
        return segments, info.language

    def _heard_again(
        self, audio: np.ndarray, offset: float, speech: list[tuple[float, float]], segments: list[Segment]
    ) -> list[Segment]:
        """Decode each stretch of speech the first pass skipped on its own (speech/asr/gaps.py).

        Stricter than the first pass, since a stretch here may be noise the VAD let through: a
        segment is kept only when the model calls it speech on both of Whisper's own tests (no-speech
        probability under 0.6 and mean log-probability at least -1; the first pass keeps a segment
        that passes either). On digital silence the model writes "You" with no-speech 0.75 and
        log-probability -0.83; d11's skipped turn decodes at 0.06 and -0.28."""
        heard = [(w.start - offset, w.end - offset) for s in segments for w in s.words]
        kwargs = transcribe_kwargs(self.cfg) | {"vad_filter": False, "vad_parameters": None}
        found: list[Segment] = []
        for start, end in unheard(speech, heard):
            piece = audio[round(start * SAMPLE_RATE) : round(end * SAMPLE_RATE)]
            again, _info = self.model.transcribe(piece, condition_on_previous_text=False, **kwargs)
            found += [_segment(seg, offset + start) for seg in again if _speech(seg) and seg.words]
        return sorted(segments + found, key=lambda s: s.start) if found else segments


def _segment(seg: object, offset: float) -> Segment:
    """A faster-whisper segment on the session's timeline."""
    words = [
        Word(
            start=round(offset + w.start, 3),
            end=round(offset + w.end, 3),
            word=w.word,
            probability=round(w.probability, 4),
        )
        for w in (seg.words or [])  # type: ignore[attr-defined]
    ]
    return Segment(
        start=round(offset + seg.start, 3),  # type: ignore[attr-defined]
        end=round(offset + seg.end, 3),  # type: ignore[attr-defined]
        text=seg.text.strip(),  # type: ignore[attr-defined]
        words=words,
    )


def speech_chunks(speech: list[tuple[float, float]], n_samples: int) -> list[dict[str, int]]:
    """Regions in seconds → faster-whisper's speech chunks in samples, clipped to the audio."""
    out = []
    for start, end in speech:
        a, b = max(0, round(start * SAMPLE_RATE)), min(n_samples, round(end * SAMPLE_RATE))
        if b > a:
            out.append({"start": a, "end": b})
    return out
