from __future__ import annotations

import time

from temporalio import activity

from therapybridge import messages as m
from therapybridge.activities.common import Heartbeater, blobs, log_stage
from therapybridge.settings import get_settings
from therapybridge.speech.diarizer import get_diarizer


@activity.defn(name=m.DIARIZE)
def diarize(req: m.DiarizeRequest) -> m.DiarizeResult:
    """Speaker turns for the whole session; partial work is checkpointed in the blob store."""
    t0 = time.monotonic()
    store = blobs()
    ref = f"{req.session_id}/diarization.json"
    if store.exists(ref):
        return m.DiarizeResult(ref, store.read_json(ref)["num_speakers"], 0.0)
    regions = [tuple(r) for r in store.read_json(req.vad_ref)["regions"]]
    heartbeat = Heartbeater()
    heartbeat(0.0)
    turns = get_diarizer(get_settings()).diarize(
        store.path(req.audio_ref),
        regions,
        num_speakers=req.num_speakers,
        min_speakers=req.min_speakers,
        max_speakers=req.max_speakers,
        on_progress=heartbeat,
        checkpoint_dir=store.path(f"{req.session_id}/diarization-checkpoint"),
    )
    speakers = len({t.speaker for t in turns})
    store.write_json(ref, {"num_speakers": speakers, "turns": [t.model_dump(mode="json") for t in turns]})
    seconds = time.monotonic() - t0
    log_stage("diarize", req.session_id, seconds, speakers=speakers)
    return m.DiarizeResult(ref, speakers, round(seconds, 3))
