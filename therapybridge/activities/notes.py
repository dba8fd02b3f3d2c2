from __future__ import annotations

import time

from temporalio import activity

from therapybridge import messages as m
from therapybridge.activities.common import blobs, log_stage, run_blocking
from therapybridge.document import ExtractedNotes, Segment, Speaker
from therapybridge.domain.notes import extract_notes
from therapybridge.settings import get_settings
from therapybridge.speech.models import notes_model_info


@activity.defn(name=m.NOTES)
async def notes(req: m.NotesRequest) -> m.NotesResult:
    """Local extractor by default (risk detection always local); an LLM when configured."""
    t0 = time.monotonic()
    store = blobs()
    merged = store.read_json(req.merged_ref)
    segments = [Segment.model_validate(s) for s in merged["segments"]]
    speakers = [Speaker.model_validate(s) for s in merged["speakers"]]
    settings = get_settings()
    result: ExtractedNotes
    if settings.notes_provider == "openai":
        from therapybridge.notes_llm import extract_notes_llm

        result = await extract_notes_llm(
            segments,
            speakers,
            api_key=settings.openai_api_key,
            base_url=settings.openai_base_url or None,
            model=settings.openai_model,
        )
    else:
        result = await run_blocking(extract_notes, segments, speakers)
    ref = f"{req.session_id}/notes.json"
    store.write_json(ref, result)
    log_stage(
        "notes", req.session_id, time.monotonic() - t0, risk_flags=len(result.risk_flags), provider=result.provider
    )
    return m.NotesResult(
        ref=ref,
        risk_flags=len(result.risk_flags),
        provider=result.provider,
        model=notes_model_info(result.provider, settings.openai_model),
    )
