"""The re-notes activities of RenotesWorkflow: stage a corrected transcript for the notes activity,
then apply its notes to the session. Both idempotent; both do nothing for a version that is no
longer the newest or a session that was deleted."""

from __future__ import annotations

import time

from temporalio import activity

from therapybridge import db, signoff, transcript_versions
from therapybridge import messages as m
from therapybridge.activities.common import blobs, log_stage
from therapybridge.blobs import SessionKeys
from therapybridge.db import SessionRecord, session_scope
from therapybridge.document import ExtractedNotes, Segment


async def _newest(session_id: str, version: int) -> bool:
    async with session_scope() as s:
        return transcript_versions.current_version(await transcript_versions.history(s, session_id)) == version


@activity.defn(name=m.STAGE_EDITED)
async def stage_edited_transcript(req: m.RenotesInput) -> str:
    """Write the corrected transcript where the notes activity reads a merged transcript; "" when
    this version is no longer the one to rebuild from."""
    if await db.is_deleted(req.session_id) or not await _newest(req.session_id, req.version):
        return ""
    async with session_scope() as s:
        v = await transcript_versions.get(s, req.session_id, req.version)
        row = await s.get(SessionRecord, req.session_id)
        if v is None or row is None:
            return ""
        language = (row.document or {}).get("language")
    key = SessionKeys(req.session_id).edited_transcript
    blobs().write_json(key, {"language": language, "segments": v.segments, "speakers": v.speakers, "turns": []})
    return key


@activity.defn(name=m.APPLY_RENOTES)
async def apply_renotes(req: m.RenotesOutcome) -> None:
    """The rebuilt notes (and the lines' skill labels) into the document; the clinical note's new
    text as a draft beside what the clinician signed. On failure the version says so."""
    t0 = time.monotonic()
    store, keys = blobs(), SessionKeys(req.session_id)
    try:
        async with session_scope() as s:
            v = await transcript_versions.get(s, req.session_id, req.version)
            row = await s.get(SessionRecord, req.session_id)
            vs = await transcript_versions.history(s, req.session_id)
            if v is None or row is None or transcript_versions.current_version(vs) != req.version:
                return  # superseded or deleted: the newer version's run writes
            if req.ok and store.exists(keys.notes) and req.staged_ref and store.exists(req.staged_ref):
                doc = row.to_document()
                doc.extracted_notes = ExtractedNotes.model_validate(store.read_json(keys.notes))
                labelled = [Segment.model_validate(x) for x in store.read_json(req.staged_ref)["segments"]]
                if [x.text for x in labelled] == [x.text for x in doc.transcript_segments]:
                    transcript_versions.put_in_document(row, doc, labelled, doc.speakers)
                else:
                    row.document = doc.model_dump(mode="json")
                v.notes_status = "done"
            else:
                v.notes_status = "failed"
            s.add(v)
            s.add(row)
            await s.commit()
        if v.notes_status == "done":
            await signoff.after_save(req.session_id, activity.info().workflow_run_id)
    finally:
        if req.staged_ref:
            store.delete(req.staged_ref)
    log_stage("renotes", req.session_id, time.monotonic() - t0, status=v.notes_status)
