"""What every transcription backend is: the `Transcriber` Protocol and the provider error it raises.

The transcribe activity only knows this module and the factory; `ModelUnavailable` (a local model that
cannot be had) comes from speech/models.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from therapybridge.document import Segment
from therapybridge.messages import ModelInfo

Region = tuple[float, float]


class Transcriber(Protocol):
    model_info: ModelInfo  # what the session document records as models.asr

    def transcribe(
        self,
        audio: np.ndarray,
        offset: float = 0.0,
        on_progress: Callable[[float], None] | None = None,
        speech: list[Region] | None = None,
    ) -> tuple[list[Segment], str]:
        """Segments of 16 kHz float32 audio, times shifted by `offset`, and the language code.
        `speech`: the session's VAD regions inside this audio, for a backend that can use them."""
        ...


class TranscriptionProviderError(RuntimeError):
    """A failed call to a remote provider. `reason` is safe to log and show (status and class, no
    content); `error_type` is one of the provider error strings of therapybridge.messages."""

    def __init__(
        self, reason: str, *, retryable: bool, error_type: str, status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:  # fmt: skip
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.error_type = error_type
        self.status = status
        self.retry_after_s = retry_after_s
