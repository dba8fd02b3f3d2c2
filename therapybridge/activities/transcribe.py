from __future__ import annotations

import time

from temporalio import activity

from therapybridge import messages as m
from therapybridge.activities.common import Heartbeater, blobs, log_stage, non_retryable
from therapybridge.settings import get_settings
from therapybridge.speech.asr import AsrConfig, ModelUnavailable, get_transcriber
from therapybridge.speech.audio import load_wav16k


@activity.defn(name=m.TRANSCRIBE_WINDOW)
def transcribe_window(req: m.WindowRequest) -> m.WindowResult:
    """Transcribe one window cut at silences. Its blob is the resume checkpoint: a window that
    finished before a crash is not transcribed again."""
    t0 = time.monotonic()
    store = blobs()
    ref = f"{req.session_id}/windows/{req.index:04d}.json"
    if store.exists(ref):
        done = store.read_json(ref)
        return m.WindowResult(req.index, ref, done["words"], done["language"], 0.0)
    try:
        transcriber = get_transcriber(AsrConfig.from_settings(get_settings()))
    except ModelUnavailable as exc:
        raise non_retryable(str(exc), m.CONFIGURATION) from None
    heartbeat = Heartbeater()
    heartbeat(0.0)
    audio = load_wav16k(store.path(req.audio_ref), req.start, req.end)
    segments, language = transcriber.transcribe(audio, offset=req.start, on_progress=heartbeat)
    words = sum(len(s.words) for s in segments)
    store.write_json(
        ref, {"language": language, "words": words, "segments": [s.model_dump(mode="json") for s in segments]}
    )
    seconds = time.monotonic() - t0
    log_stage("transcribe_window", req.session_id, seconds, window=req.index, audio_s=round(req.end - req.start, 1))
    return m.WindowResult(req.index, ref, words, language, round(seconds, 3))
