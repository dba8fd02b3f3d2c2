from __future__ import annotations

import time

from temporalio import activity

from therapybridge import messages as m
from therapybridge.activities.common import blobs, log_stage, non_retryable, run_blocking
from therapybridge.blobs import SessionKeys
from therapybridge.settings import get_settings
from therapybridge.speech.audio import InvalidAudio, to_wav16k, wav_duration
from therapybridge.speech.models import vad_model_info
from therapybridge.speech.vad import plan_windows, speech_regions, speech_seconds


@activity.defn(name=m.PREPROCESS)
async def preprocess(inp: m.SessionInput) -> m.PreprocessResult:
    """ffmpeg → 16 kHz mono loudness-normalised WAV; one VAD pass shared by both model stages."""
    t0 = time.monotonic()
    store = blobs()
    keys = SessionKeys(inp.session_id)
    audio_ref, vad_ref = keys.audio, keys.vad
    stage = {"progress": 0.0}
    if not store.exists(audio_ref):  # idempotent: a retried attempt reuses the converted file
        try:
            await run_blocking(
                to_wav16k,
                store.path(inp.upload_ref),
                store.path(audio_ref),
                get_settings().max_duration_hours * 3600,  # on what decodes, not what the header says
                progress=lambda: stage["progress"],
            )
        except InvalidAudio as exc:
            raise non_retryable(str(exc), m.INVALID_AUDIO) from None
    stage["progress"] = 0.6
    wav = store.path(audio_ref)
    regions = await run_blocking(speech_regions, wav, progress=lambda: stage["progress"])
    duration = wav_duration(wav)
    if not regions:
        raise non_retryable("no speech was detected in the recording", m.NO_SPEECH)
    store.write_json(vad_ref, {"regions": regions, "duration": duration})
    windows = plan_windows(regions, duration, get_settings().transcribe_window_s)
    log_stage("preprocess", inp.session_id, time.monotonic() - t0, windows=len(windows), duration_s=round(duration, 1))
    return m.PreprocessResult(
        audio_ref=audio_ref,
        vad_ref=vad_ref,
        duration_seconds=duration,
        speech_seconds=round(speech_seconds(regions), 3),
        windows=windows,
        vad=vad_model_info(),
    )
