from __future__ import annotations

import time
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import CancelledError

from therapybridge import breaker
from therapybridge import messages as m
from therapybridge.activities.common import Heartbeater, blobs, log, log_stage
from therapybridge.blobs import SessionKeys
from therapybridge.document import SpeakerTurn
from therapybridge.settings import get_settings
from therapybridge.speech.diarization.factory import diarizer_config, get_diarizer, model_info
from therapybridge.speech.voiceprint import embed_voice


@activity.defn(name=m.DIARIZE)
def diarize(req: m.DiarizeRequest) -> m.DiarizeResult:
    """Speaker turns for the whole session; partial work is checkpointed in the blob store (one file
    per block of audio), so a retried attempt embeds only the blocks the crashed one had not done."""
    t0 = time.monotonic()
    store = blobs()
    ref = SessionKeys(req.session_id).diarization
    cfg = diarizer_config(get_settings())
    model = model_info(cfg)
    if store.exists(ref):
        return m.DiarizeResult(ref, store.read_json(ref)["num_speakers"], 0.0, model)
    regions = [tuple(r) for r in store.read_json(req.vad_ref)["regions"]]
    checkpoint_key = f"{req.session_id}/diarization-checkpoint"
    checkpoint_dir = store.path(checkpoint_key)
    resumed_blocks = len(list(checkpoint_dir.glob("emb-*.npz"))) if checkpoint_dir.exists() else 0
    try:
        with Heartbeater(checkpoint=checkpoint_key, resumed_blocks=resumed_blocks) as heartbeat:
            heartbeat(0.0)
            try:
                turns = get_diarizer(cfg).diarize(
                    store.path(req.audio_ref),
                    regions,
                    num_speakers=req.num_speakers,
                    min_speakers=req.min_speakers,
                    max_speakers=req.max_speakers,
                    on_progress=heartbeat,
                    checkpoint_dir=checkpoint_dir,
                )
            except (CancelledError, FileNotFoundError):  # a missing input says nothing about the diarizer
                raise
            except Exception as exc:
                breaker.record_failure_sync(breaker.DIARIZATION, type(exc).__name__)
                raise
    except CancelledError:
        log.info("stage cancelled", extra={"stage": "diarize", "session_id": req.session_id})
        raise
    breaker.record_success_sync(breaker.DIARIZATION)
    speakers = len({t.speaker for t in turns})
    store.write_json(
        ref,
        {
            "num_speakers": speakers,
            "turns": [t.model_dump(mode="json") for t in turns],
            # One voice vector per label: lets the io worker match an enrolled therapist, and lets a
            # clinician's confirmation of this session enrol the therapist later, without a model.
            "label_vectors": _label_vectors(store.path(req.audio_ref), turns),
        },
    )
    seconds = time.monotonic() - t0
    log_stage("diarize", req.session_id, seconds, speakers=speakers, resumed_blocks=resumed_blocks)
    return m.DiarizeResult(ref, speakers, round(seconds, 3), model)


def _label_vectors(wav: Path, turns: list[SpeakerTurn]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for label in sorted({t.speaker for t in turns}):
        try:
            out[label] = embed_voice(wav, turns, label).round(6).tolist()
        except ValueError:
            continue  # only very short turns: no reliable voice vector
    return out
