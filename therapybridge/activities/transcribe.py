from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import timedelta

import numpy as np
from temporalio import activity
from temporalio.exceptions import ApplicationError, CancelledError

from therapybridge import breaker
from therapybridge import messages as m
from therapybridge.activities.common import Heartbeater, blobs, log, log_stage, non_retryable
from therapybridge.blobs import SessionKeys
from therapybridge.document import Segment
from therapybridge.settings import get_settings
from therapybridge.speech.asr.base import TranscriptionProviderError
from therapybridge.speech.asr.factory import AsrConfig, asr_config, get_transcriber
from therapybridge.speech.audio import load_wav16k
from therapybridge.speech.models import ModelUnavailable
from therapybridge.speech.vad import regions_within


def _transcribe(
    cfg: AsrConfig,
    audio: np.ndarray,
    offset: float,
    on_progress: Callable[[float], None],
    speech: list[tuple[float, float]],
) -> tuple[list[Segment], str, m.ModelInfo]:
    """Run the configured backend (speech/asr/factory.py: faster-whisper, or the OpenAI transcription
    API); record the outcome in the shared circuit breaker and map failures to retryable or
    non-retryable errors. `speech`: the session's VAD regions in this window, so faster-whisper does
    not run Silero again. Also returns the model that transcribed, for the session document."""
    try:
        transcriber = get_transcriber(cfg)
        segments, language = transcriber.transcribe(audio, offset=offset, on_progress=on_progress, speech=speech)
        model = transcriber.model_info
    except CancelledError:
        raise
    except ModelUnavailable as exc:
        breaker.record_failure_sync(breaker.TRANSCRIPTION, m.CONFIGURATION)
        raise non_retryable(str(exc), m.CONFIGURATION) from None
    except TranscriptionProviderError as exc:
        if exc.error_type != m.PROVIDER_BAD_REQUEST:  # a bad request says nothing about the provider
            breaker.record_failure_sync(breaker.TRANSCRIPTION, exc.error_type)
        delay = timedelta(seconds=exc.retry_after_s) if exc.retryable and exc.retry_after_s else None
        raise ApplicationError(
            exc.reason, type=exc.error_type, non_retryable=not exc.retryable, next_retry_delay=delay
        ) from None
    except Exception as exc:
        breaker.record_failure_sync(breaker.TRANSCRIPTION, type(exc).__name__)
        raise
    breaker.record_success_sync(breaker.TRANSCRIPTION)
    return segments, language, model


@activity.defn(name=m.TRANSCRIBE_WINDOW)
def transcribe_window(req: m.WindowRequest) -> m.WindowResult:
    """Transcribe one window cut at silences. Its blob is the resume checkpoint: a window that
    finished before a crash is not transcribed again (the result then reports 0 s of work)."""
    t0 = time.monotonic()
    store = blobs()
    ref = SessionKeys(req.session_id).window(req.index)
    if store.exists(ref):
        done = store.read_json(ref)
        model = m.ModelInfo(**done["model"]) if done.get("model") else None  # checkpoints from before
        return m.WindowResult(req.index, ref, done["words"], done["language"], 0.0, model)
    audio_s = round(req.end - req.start, 3)
    try:
        # The details name the window and where its result (the checkpoint) will be: what a retried
        # attempt, or an operator looking at the pending activity in the Temporal UI, needs.
        with Heartbeater(window=req.index, checkpoint=ref, audio_s=audio_s) as heartbeat:
            heartbeat(0.0)
            audio = load_wav16k(store.path(req.audio_ref), req.start, req.end)
            speech = regions_within(store.read_json(req.vad_ref)["regions"], req.start, req.end)
            segments, language, model = _transcribe(asr_config(get_settings()), audio, req.start, heartbeat, speech)
    except CancelledError:
        log.info("stage cancelled", extra={"stage": "transcribe_window", "session_id": req.session_id,
                                           "window": req.index})  # fmt: skip
        raise
    words = sum(len(s.words) for s in segments)
    store.write_json(
        ref,
        {
            "language": language,
            "words": words,
            "segments": [s.model_dump(mode="json") for s in segments],
            "model": dataclasses.asdict(model),
        },
    )
    seconds = time.monotonic() - t0
    log_stage("transcribe_window", req.session_id, seconds, window=req.index, audio_s=round(audio_s, 1))
    return m.WindowResult(req.index, ref, words, language, round(seconds, 3), model)
