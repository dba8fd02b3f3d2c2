from __future__ import annotations

import time

from temporalio import activity

from therapybridge import messages as m
from therapybridge import voiceprints
from therapybridge.activities.common import blobs, log_stage, run_blocking
from therapybridge.blobs import SessionKeys
from therapybridge.document import Segment, SpeakerTurn
from therapybridge.domain.transcript import attribute, stitch


def _merge(req: m.MergeRequest) -> m.MergeResult:
    store = blobs()
    windows = [store.read_json(ref) for ref in req.window_refs]
    segments = stitch([[Segment.model_validate(s) for s in w["segments"]] for w in windows])
    languages = [w["language"] for w in windows if w.get("words")]
    language = max(set(languages), key=languages.count) if languages else "en"
    turns: list[SpeakerTurn] = []
    voice_match: dict[str, float] | None = None
    if req.diarization_ref:
        diarization = store.read_json(req.diarization_ref)
        turns = [SpeakerTurn.model_validate(t) for t in diarization["turns"]]
        voiceprint = voiceprints.load(store, req.therapist_id) if req.therapist_id else None
        if voiceprint is not None and diarization.get("label_vectors"):
            voice_match = voiceprints.match(voiceprint, diarization["label_vectors"])
    merged, speakers = attribute(segments, turns, voice_match)
    ref = SessionKeys(req.session_id).merged
    store.write_json(
        ref,
        {
            "language": language,
            "segments": [s.model_dump(mode="json") for s in merged],
            "speakers": [s.model_dump(mode="json") for s in speakers],
            "turns": [t.model_dump(mode="json") for t in turns],
        },
    )
    return m.MergeResult(ref=ref, segments=len(merged), speakers=len(speakers), language=language)


@activity.defn(name=m.MERGE)
async def merge_transcript(req: m.MergeRequest) -> m.MergeResult:
    """Stitch window transcripts, attribute words to speakers, label roles."""
    t0 = time.monotonic()
    result = await run_blocking(_merge, req)
    log_stage("merge", req.session_id, time.monotonic() - t0, segments=result.segments, speakers=result.speakers)
    return result
