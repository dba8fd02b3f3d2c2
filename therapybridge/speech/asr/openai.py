"""Transcription through the OpenAI audio transcription API (or a compatible server).

ASR_PROVIDER=openai selects it (speech/asr/factory.py); OPENAI_API_KEY, OPENAI_BASE_URL and
OPENAI_TRANSCRIBE_MODEL configure it, through `OpenAIAsrConfig`. The window's audio is sent as a 16-bit
WAV with `response_format=verbose_json` and word and segment timestamps; the answer becomes the same
Segment/Word shapes faster-whisper gives.

The client never retries by itself (max_retries=0): Temporal's retry policy owns backoff. Failures
become `TranscriptionProviderError` with `retryable` set from the status: 408/409/429/5xx, timeouts and
connection errors are worth retrying; 400/401/403/404/413/422 are not. Messages carry the status and
error class only, never the response body (it may quote the audio).
"""

from __future__ import annotations

import io
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import openai

from therapybridge.document import Segment, Word
from therapybridge.messages import PROVIDER_AUTH, PROVIDER_BAD_REQUEST, PROVIDER_UNAVAILABLE, ModelInfo
from therapybridge.speech.asr.base import Region, TranscriptionProviderError
from therapybridge.speech.audio import SAMPLE_RATE

RETRYABLE_STATUS = {408, 409, 429}


@dataclass(frozen=True)
class OpenAIAsrConfig:
    model: str  # OPENAI_TRANSCRIBE_MODEL
    api_key: str = field(default="", repr=False)  # never in a log line or traceback
    base_url: str = ""  # "" = api.openai.com
    timeout_s: float = 120.0
    language: str | None = None  # None: the provider detects it


def wav_bytes(audio: np.ndarray) -> bytes:
    """16 kHz float32 [-1, 1] → a 16-bit PCM WAV file in memory."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def classify(exc: Exception) -> TranscriptionProviderError:
    """An openai exception → retryable or not, with a reason that holds no response content."""
    if isinstance(exc, openai.APITimeoutError):
        return TranscriptionProviderError(
            "transcription provider timed out", retryable=True, error_type=PROVIDER_UNAVAILABLE
        )
    if isinstance(exc, openai.APIConnectionError):
        return TranscriptionProviderError(
            "transcription provider unreachable", retryable=True, error_type=PROVIDER_UNAVAILABLE
        )
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        retry_after = _retry_after(exc.response.headers.get("retry-after")) if exc.response is not None else None
        if status in RETRYABLE_STATUS or status >= 500:
            return TranscriptionProviderError(
                f"transcription provider unavailable (HTTP {status})",
                retryable=True, error_type=PROVIDER_UNAVAILABLE, status=status, retry_after_s=retry_after,
            )  # fmt: skip
        if status in (401, 403):
            return TranscriptionProviderError(
                f"transcription provider rejected the credentials (HTTP {status}): check OPENAI_API_KEY",
                retryable=False, error_type=PROVIDER_AUTH, status=status,
            )  # fmt: skip
        return TranscriptionProviderError(
            f"transcription provider rejected the request (HTTP {status})",
            retryable=False, error_type=PROVIDER_BAD_REQUEST, status=status,
        )  # fmt: skip
    return TranscriptionProviderError(
        f"transcription provider answered unexpectedly ({type(exc).__name__})",
        retryable=True, error_type=PROVIDER_UNAVAILABLE,
    )  # fmt: skip


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: leave the backoff to the retry policy


class OpenAITranscriber:
    """The `Transcriber` of speech/asr/base.py over the API (thread-safe: one per configuration)."""

    def __init__(self, cfg: OpenAIAsrConfig) -> None:
        self.cfg = cfg
        self.model_info = ModelInfo(cfg.model, "OpenAI transcription API")
        self.client = openai.OpenAI(
            api_key=cfg.api_key or "missing",  # a missing key answers 401: non-retryable
            base_url=cfg.base_url or None,
            timeout=cfg.timeout_s,
            max_retries=0,
        )

    def transcribe(
        self,
        audio: np.ndarray,
        offset: float = 0.0,
        on_progress: Callable[[float], None] | None = None,
        speech: list[Region] | None = None,  # unused: the provider finds the speech itself
    ) -> tuple[list[Segment], str]:
        if on_progress is not None:
            on_progress(0.0)
        kwargs: dict[str, Any] = {"language": self.cfg.language} if self.cfg.language else {}
        try:
            answer = self.client.audio.transcriptions.create(
                model=self.cfg.model,
                file=("window.wav", wav_bytes(audio), "audio/wav"),
                response_format="verbose_json",
                timestamp_granularities=["word", "segment"],
                **kwargs,
            )
        except openai.OpenAIError as exc:
            raise classify(exc) from None
        segments = to_segments(answer, offset)
        if on_progress is not None:
            on_progress(1.0)
        return segments, _language_code(getattr(answer, "language", None) or self.cfg.language or "en")


def to_segments(answer: Any, offset: float) -> list[Segment]:
    """verbose_json → Segments whose words are those whose midpoint falls inside the segment."""
    words = [
        Word(start=round(offset + w.start, 3), end=round(offset + w.end, 3), word=" " + w.word.strip())
        for w in (answer.words or [])
        if w.word.strip()
    ]
    raw = sorted(answer.segments or [], key=lambda s: s.start)
    if not raw and words:  # words only: one segment
        text = "".join(w.word for w in words).strip()
        return [Segment(start=words[0].start, end=words[-1].end, text=text, words=words)]
    out: list[Segment] = []
    k = 0
    for i, s in enumerate(raw):
        start, end = round(offset + s.start, 3), round(offset + s.end, 3)
        last = i == len(raw) - 1
        mine: list[Word] = []
        while k < len(words) and (last or (words[k].start + words[k].end) / 2 < end):
            mine.append(words[k])
            k += 1
        if s.text.strip():
            out.append(Segment(start=start, end=end, text=s.text.strip(), words=mine))
    return out


_NAMES = {"english": "en", "german": "de", "french": "fr", "spanish": "es", "italian": "it", "dutch": "nl"}


def _language_code(language: str) -> str:
    """verbose_json names the language ("english"); the document uses ISO codes."""
    return _NAMES.get(language.lower(), language.lower()[:2] if len(language) > 3 else language.lower())
