"""`therapybridge process AUDIO`: one recording through the real workflow, with live progress from the
workflow's `progress` query, then the transcript and the notes."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

from temporalio.client import WorkflowFailureError

from therapybridge import db
from therapybridge import messages as m
from therapybridge.blobs import BlobStore
from therapybridge.cli.render import render_for_terminal
from therapybridge.cli.stack import start_local_stack
from therapybridge.domain.note_formats import render_note
from therapybridge.domain.progress import Measured, elapsed_since, estimate_left
from therapybridge.domain.speaker_hints import SpeakerHints
from therapybridge.settings import get_settings
from therapybridge.supervisor import Supervisor
from therapybridge.temporal import query_progress, start_session


def _bar(p: m.Progress, width: int = 30) -> str:
    filled = int(width * p.progress / 100)
    # From the measured transcription rate (domain/progress.py); the percent alone misleads.
    transcribing_s = elapsed_since(p.transcribe_started_at)
    left = estimate_left(Measured(p.status, transcribing_s, p.audio_seconds_total, p.audio_seconds_done))
    eta = f" ~{left:.0f}s left" if left is not None else ""
    return f"\r[{'#' * filled}{'.' * (width - filled)}] {p.progress:3d}% {p.status:<16} {eta:<14}"


async def process(
    audio: Path,
    json_out: Path | None,
    speakers: int | None,
    quiet: bool,
    note_format: str | None = None,
    hints: SpeakerHints | None = None,
) -> int:
    settings = get_settings()
    if not audio.is_file():
        print(f"error: file not found: {audio}", file=sys.stderr)
        return 2
    sup = Supervisor(settings)
    try:
        client = await start_local_stack(sup)

        session_id = str(uuid.uuid4())
        store = BlobStore(settings.blob_dir)
        key = store.add_upload(session_id, audio, audio.name)
        hints = hints or SpeakerHints(num_speakers=speakers)
        inp = m.SessionInput(
            session_id=session_id,
            upload_ref=key,
            audio_filename=audio.name,
            num_speakers=hints.num_speakers,
            min_speakers=hints.min_speakers,
            max_speakers=hints.max_speakers,
        )
        handle = await start_session(client, settings, inp)
        print(f"Session {session_id} (workflow {handle.id})", file=sys.stderr)

        result_task = asyncio.ensure_future(handle.result())
        tty, last = sys.stderr.isatty(), (-1, "")
        while not result_task.done():
            try:
                p = await query_progress(client, session_id)
                if not quiet and (tty or (p.progress, p.status) != last):
                    # A terminal gets one redrawn bar; a log file one line per change.
                    bar = _bar(p)
                    print(bar if tty else bar.lstrip("\r"), end="" if tty else "\n", file=sys.stderr, flush=True)
                    last = (p.progress, p.status)
            except Exception:
                pass  # the first query can race the first workflow task
            await asyncio.wait({result_task}, timeout=0.5)
        if not quiet:
            print(file=sys.stderr)
        try:
            result_task.result()
        except WorkflowFailureError as exc:
            print(f"error: processing failed: {_failure_message(exc)}", file=sys.stderr)
            return 1

        doc = await db.get_session_document(session_id)
        if doc is None:
            print("error: the session was processed but could not be read back", file=sys.stderr)
            return 1
        print(render_for_terminal(doc))
        if note_format and doc.extracted_notes:
            print(f"\n── {note_format.upper()} note ──\n")
            print(render_note(doc.extracted_notes, note_format, doc.transcript_segments))  # type: ignore[arg-type]
        if json_out:
            json_out.write_text(doc.model_dump_json(indent=2))
            print(f"\nSession document written to {json_out}", file=sys.stderr)
        return 0
    finally:
        await sup.stop()


def _failure_message(exc: WorkflowFailureError) -> str:
    cause: BaseException | None = exc.cause
    while cause is not None and getattr(cause, "cause", None) is not None:
        cause = cause.cause  # type: ignore[attr-defined]
    return getattr(cause, "message", None) or str(cause or exc)
