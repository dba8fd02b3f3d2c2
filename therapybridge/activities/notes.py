from __future__ import annotations

import time

from temporalio import activity

from therapybridge import messages as m
from therapybridge import notes_engine
from therapybridge.activities.common import blobs, log_stage, run_blocking
from therapybridge.blobs import SessionKeys
from therapybridge.document import Segment, Speaker
from therapybridge.settings import get_settings


@activity.defn(name=m.NOTES)
async def notes(req: m.NotesRequest) -> m.NotesResult:
    """Local extractor by default (risk detection always local); an LLM when configured."""
    t0 = time.monotonic()
    store = blobs()
    merged = store.read_json(req.merged_ref)
    segments = [Segment.model_validate(s) for s in merged["segments"]]
    speakers = [Speaker.model_validate(s) for s in merged["speakers"]]
    cfg = notes_engine.notes_config(get_settings())
    result, labelled = await notes_engine.extract_labelled(segments, speakers, cfg, run_local=run_blocking)
    # The segments' behaviour labels go back into the merged transcript, which save turns into the
    # document's transcript_segments (rewriting it is idempotent: a retry writes the same labels).
    if any(s.behaviour for s in labelled):
        merged["segments"] = [s.model_dump(mode="json") for s in labelled]
        store.write_json(req.merged_ref, merged)
    ref = SessionKeys(req.session_id).notes
    store.write_json(ref, result)
    log_stage(
        "notes", req.session_id, time.monotonic() - t0, risk_flags=len(result.risk_flags), provider=result.provider
    )
    return m.NotesResult(
        ref=ref,
        risk_flags=len(result.risk_flags),
        provider=result.provider,
        model=notes_engine.model_info(cfg, result.provider),
    )
