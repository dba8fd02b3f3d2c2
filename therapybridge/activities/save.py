from __future__ import annotations

import time
from datetime import UTC, datetime

from temporalio import activity

from therapybridge import db, signoff
from therapybridge import messages as m
from therapybridge.activities.common import blobs, log_stage
from therapybridge.blobs import BlobStore, SessionKeys
from therapybridge.document import (
    ExtractedNotes,
    ModelRef,
    ModelsUsed,
    Segment,
    SessionDocument,
    Speaker,
    SpeakerTurn,
)
from therapybridge.domain.quality import quality_warnings
from therapybridge.domain.transcript import transcript_text
from therapybridge.settings import get_settings


def retain_audio(session: m.SessionInput) -> bool:
    """The upload's choice, else the clinic's setting."""
    return get_settings().retain_audio if session.retain_audio is None else session.retain_audio


def build_document(req: m.SaveRequest, store: BlobStore) -> SessionDocument:
    """The session document from the stage artifacts (what exists of them)."""
    s = req.session
    doc = SessionDocument(
        id=s.session_id,
        patient_id=s.patient_id,
        therapist_id=s.therapist_id,
        status=req.status,  # type: ignore[arg-type]
        progress=100,
        error=req.error,
        audio_filename=s.audio_filename,
        duration_seconds=round(req.duration_seconds, 3) if req.duration_seconds else None,
        diarization=req.diarization,  # type: ignore[arg-type]
        timings=req.timings,
        processed_at=datetime.now(UTC) if req.status == "processed" else None,
        audio_retained=retain_audio(s) if req.status == "processed" else None,
        models=ModelsUsed(**{k: ModelRef(name=v.name, version=v.version) for k, v in req.models.items()}),
    )
    if req.merged_ref and store.exists(req.merged_ref):
        merged = store.read_json(req.merged_ref)
        doc.language = merged["language"]
        doc.transcript_segments = [Segment.model_validate(x) for x in merged["segments"]]
        doc.speakers = [Speaker.model_validate(x) for x in merged["speakers"]]
        doc.speaker_turns = [SpeakerTurn.model_validate(x) for x in merged["turns"]]
        doc.transcript_text = transcript_text(doc.transcript_segments, doc.speakers)
        if req.status == "processed":
            doc.quality_warnings = quality_warnings(doc.speakers, doc.transcript_segments, doc.diarization)
    if req.notes_ref and store.exists(req.notes_ref):
        doc.extracted_notes = ExtractedNotes.model_validate(store.read_json(req.notes_ref))
    return doc


def apply_retention(session_id: str, status: str, store: BlobStore, retain_audio: bool) -> None:
    """What a finished session keeps in the blob store.

    processed: the stage results only (the document lives in the database); the upload and the
    16 kHz audio too when RETAIN_AUDIO is on. failed or cancelled: the upload, for a retry, until the
    purge schedule removes it; temporary files go at once.
    """
    keys, present = SessionKeys(session_id), store.session_keys(session_id)
    uploads = {k for k in present if keys.is_upload(k)}
    if status == "processed":
        keep = keys.stage_results() | (uploads | {keys.audio} if retain_audio else set())
    else:
        keep = uploads
    for key in present:
        if key not in keep:
            store.delete(key)


@activity.defn(name=m.SAVE)
async def save(req: m.SaveRequest) -> None:
    """Idempotent upsert of the session document (a retried save writes the same row)."""
    t0 = time.monotonic()
    store = blobs()
    if await db.is_deleted(req.session.session_id):
        # Deleted while this run was in flight: delete means delete, so write nothing back.
        store.delete_session(req.session.session_id)
        log_stage("save", req.session.session_id, time.monotonic() - t0, status="deleted")
        return
    doc = build_document(req, store)
    await db.upsert_session(doc)
    if doc.status == "processed":
        # Sign-off: the first save writes the engine's drafts; a reprocess adds a draft beside a
        # signed note, never over it (idempotent, as this activity must be).
        await signoff.after_save(doc.id, activity.info().workflow_run_id)
    apply_retention(doc.id, doc.status, store, retain_audio(req.session))
    log_stage("save", doc.id, time.monotonic() - t0, status=doc.status)
