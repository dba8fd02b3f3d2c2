"""Command line: `therapybridge process AUDIO`, `therapybridge notes TRANSCRIPT.json`, plus the service commands.

`process` runs one recording through the real workflow: it starts a local Temporal dev server and
both workers when nothing answers at TEMPORAL_ADDRESS, shows live progress from the workflow's
`progress` query, then prints the speaker-attributed transcript and the notes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NoReturn

import uvicorn
from temporalio.client import Client, WorkflowFailureError

from therapybridge import db, notes_engine
from therapybridge import messages as m
from therapybridge.blobs import BlobStore
from therapybridge.document import Evidence, ExtractedNotes, SessionDocument
from therapybridge.domain.clock import clock
from therapybridge.domain.note_formats import render_note
from therapybridge.domain.progress import Measured, elapsed_since, estimate_left
from therapybridge.domain.speaker_hints import SESSION_TYPES, HintError, SpeakerHints, resolve_hints
from therapybridge.notes_engine import Provider
from therapybridge.settings import get_settings
from therapybridge.supervisor import Supervisor, queue_has_pollers
from therapybridge.temporal import connect, query_progress, start_session
from therapybridge.transcript_input import TranscriptInputError, read_transcript


def _bar(p: m.Progress, width: int = 30) -> str:
    filled = int(width * p.progress / 100)
    # From the measured transcription rate (domain/progress.py); the percent alone misleads.
    transcribing_s = elapsed_since(p.transcribe_started_at)
    left = estimate_left(Measured(p.status, transcribing_s, p.audio_seconds_total, p.audio_seconds_done))
    eta = f" ~{left:.0f}s left" if left is not None else ""
    return f"\r[{'#' * filled}{'.' * (width - filled)}] {p.progress:3d}% {p.status:<16} {eta:<14}"


async def start_local_stack(sup: Supervisor) -> Client:
    """The embedded default on one machine: a dev server if nothing answers, the schema, and workers
    for any task queue nobody polls. Returns a connected client."""
    settings = sup.settings
    started = await sup.start_server_if_needed()
    if started:
        print(
            f"Started a local Temporal dev server at {settings.temporal_address} "
            f"(UI: http://localhost:{settings.temporal_ui_port})",
            file=sys.stderr,
        )
    client = await connect(settings)
    await db.init_db()  # once, before the workers and the gateway race to it
    await _ensure_workers(sup, client, started)
    return client


async def _ensure_workers(sup: Supervisor, client: Client, started_server: bool) -> None:
    s = sup.settings
    need_io = started_server or not await queue_has_pollers(client, s.io_task_queue, s.temporal_namespace)
    need_gpu = started_server or not await queue_has_pollers(client, s.gpu_task_queue, s.temporal_namespace)
    if need_io:
        sup.add("worker_io", [sys.executable, "-m", "therapybridge.worker_io"])
    if need_gpu:
        sup.add("worker_gpu", [sys.executable, "-m", "therapybridge.worker_gpu"])


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


def render_for_terminal(doc: SessionDocument) -> str:
    lines = [f"Duration {doc.duration_seconds or 0:.1f}s · language {doc.language} · diarization {doc.diarization}"]
    if doc.speakers:
        lines.append(
            "Speakers: " + ", ".join(f"{s.label} ({s.role or 'unknown'}, {s.talk_seconds:.0f}s)" for s in doc.speakers)
        )
    lines += ["", "── Transcript ──", ""]
    for seg in doc.transcript_segments:
        who = (seg.role or seg.speaker).capitalize() if seg.role else seg.speaker
        lines.append(f"[{clock(seg.start)}] {who}: {seg.text}")
    if doc.extracted_notes:
        lines += ["", render_notes(doc.extracted_notes)]
    if doc.timings:
        lines += ["", "Timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in doc.timings.items())]
    return "\n".join(lines)


def render_notes(n: ExtractedNotes) -> str:
    """The notes as a clinician reads them in a terminal, each item with where it was said."""
    lines = ["── Notes ──", ""]
    if n.risk_flags:
        lines.append("RISK FLAGS:")
        lines += [f'  ! {f.type} ({f.severity}) at {clock(f.start)}: "{f.quote}"' for f in n.risk_flags]
    if n.documented_denials:
        lines.append("Documented denials: " + "; ".join(f"{d.type} at {clock(d.start)}" for d in n.documented_denials))
    lines.append("Topics: " + (", ".join(n.key_topics) or "-"))
    lines.append(f"Mood: {n.patient_mood or '-'}")
    if n.strategies:
        lines.append("Strategies: " + "; ".join(f"{s.name} ({s.status}{_at(s.evidence)})" for s in n.strategies))
    if n.action_items:
        lines.append("Action items: " + "; ".join(f"{a.task} ({a.category}{_at(a.evidence)})" for a in n.action_items))
    a = n.analytics
    if a.get("reflection_to_question") is not None or a.get("questions"):

        def show(key: str) -> str:
            return "-" if a.get(key) is None else str(a[key])

        lines.append(
            f"Counselling skills: {show('reflections')} reflections, {show('questions')} questions "
            f"(reflection-to-question {show('reflection_to_question')}, open {show('percent_open_questions')}%), "
            f"change talk {show('change_talk')}, sustain talk {show('sustain_talk')}"
        )
    if n.therapist_notes:
        lines += ["", "Therapist notes: " + n.therapist_notes]
    if n.patient_summary:
        label = "draft for the clinician to review" if n.patient_summary_status == "draft" else "approved"
        lines += ["", f"Client summary ({label}): " + n.patient_summary]
    if n.provider_message:
        lines += ["", f"Notes provider: {n.provider} ({n.provider_message})"]
    return "\n".join(lines)


def _at(evidence: list[Evidence]) -> str:
    return f", at {clock(evidence[0].start)}" if evidence else ""


def notes_command(src: Path, out: Path | None, provider: Provider | None) -> int:
    """`therapybridge notes IN.json`: notes for a transcript alone, no audio and no workflow."""
    try:
        doc, segments, speakers = read_transcript(src)
    except TranscriptInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cfg = notes_engine.notes_config(get_settings(), provider)
    notes, labelled = asyncio.run(notes_engine.extract_labelled(segments, speakers, cfg))
    if out is None:
        print(render_notes(notes))
        return 0
    for raw, seg in zip(doc["transcript_segments"], labelled, strict=True):  # read_transcript keeps the order
        raw["behaviour"] = seg.behaviour
    doc["extracted_notes"] = notes.model_dump(mode="json")
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(out)
    print(f"wrote {out}")
    return 0


# --------------------------------------------------------------------------- serve, users, db


async def serve(host: str, port: int) -> int:
    """The gateway. With a local Temporal address (the embedded default) it also runs what is missing
    on this machine: the dev server if nothing answers, and workers if no worker polls. Against a
    remote cluster it runs the gateway alone; workers are started separately."""
    from therapybridge.logs import setup_logging
    from therapybridge.temporal import is_local

    settings = get_settings()
    setup_logging(settings, "api")
    sup = Supervisor(settings)
    try:
        if is_local(settings.temporal_address):
            await start_local_stack(sup)
            sup.watch()
        config = uvicorn.Config(
            "therapybridge.api.app:create_app",
            factory=True,
            host=host,
            port=port,
            access_log=False,  # uvicorn's access log prints query strings (tokens); the app logs requests
            log_config=None,
            lifespan="on",
            proxy_headers=False,
            timeout_graceful_shutdown=10,  # open progress streams must not hold a shutdown forever
        )
        print(f"TherapyBridge API on http://{host}:{port} (docs: /docs)", file=sys.stderr)
        await _Gateway(config, sup.stop).serve()
        return 0
    finally:
        await sup.stop()


class _Gateway(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT once it has shut down, which ends the process before any
    `finally` runs: the supervisor's children are stopped as part of the shutdown instead."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[], Awaitable[None]]) -> None:
        super().__init__(config)
        self._on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        await self._on_shutdown()


def _read_password(given: str | None) -> str:
    if given not in (None, "-"):
        return given
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\n")


async def create_user_command(email: str, password: str, role: str) -> int:
    from therapybridge.users import UserError, create_user

    await db.init_db()
    try:
        user = await create_user(email, password, role)  # type: ignore[arg-type]
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(user.id)
    return 0


async def manage_user_command(command: str, email: str, password: str | None) -> int:
    """`users set-password | disable | enable`: each ends the user's sign-ins where it matters."""
    from therapybridge.users import UserError, set_active, set_password

    await db.init_db()
    try:
        if command == "set-password":
            user = await set_password(email, password or "")
        else:
            user = await set_active(email, command == "enable")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(user.id)
    return 0


async def db_upgrade() -> int:
    await db.init_db()
    print("database schema is up to date", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="therapybridge", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("process", help="process one recording end to end and print the result")
    p.add_argument("audio", type=Path)
    p.add_argument("--json", type=Path, dest="json_out", help="write the session document here")
    p.add_argument("--speakers", type=int, default=None, help="number of speakers, if known (1-10)")
    p.add_argument("--min-speakers", type=int, default=None, help="at least this many speakers")
    p.add_argument("--max-speakers", type=int, default=None, help="at most this many speakers")
    p.add_argument(
        "--session-type",
        choices=SESSION_TYPES,
        default=None,
        help="individual = 2 speakers, couple = 3, family = 3-6, group = 3 or more (explicit counts win); "
        "default: count automatically",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--note", choices=["soap", "dap", "birp", "girp"], help="also print the notes in this clinical format"
    )

    p = sub.add_parser("serve", help="run the API gateway (and, on one machine, Temporal and the workers)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)

    users = sub.add_parser("users", help="manage user accounts").add_subparsers(dest="users_command", required=True)
    p = users.add_parser("create", help="create a user; prints its id")
    p.add_argument("--email", required=True)
    p.add_argument("--password", default=None, help="the password, or '-' (or nothing) to read it from stdin")
    p.add_argument("--role", choices=["therapist", "admin"], default="therapist")
    p = users.add_parser("set-password", help="change a password; ends every sign-in of the user")
    p.add_argument("--email", required=True)
    p.add_argument("--password", default=None, help="the password, or '-' (or nothing) to read it from stdin")
    for name, text in (("disable", "disable a user; ends every sign-in at once"), ("enable", "enable a user again")):
        users.add_parser(name, help=text).add_argument("--email", required=True)

    p = sub.add_parser("notes", help="notes and risk flags for a transcript (JSON) alone, without audio")
    p.add_argument("transcript", type=Path, help="a session document, or JSON with transcript_segments")
    p.add_argument("--json", type=Path, dest="json_out", help="write the input document with extracted_notes here")
    p.add_argument("--provider", choices=["local", "openai"], default=None, help="default: NOTES_PROVIDER")

    dbp = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    dbp.add_parser("upgrade", help="apply every migration (alembic upgrade head)")
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "notes":  # synchronous: the notes engine runs its own event loop when it needs one
        sys.exit(notes_command(args.transcript, args.json_out, args.provider))
    if args.command == "process":
        try:
            hints = resolve_hints(args.speakers, args.min_speakers, args.max_speakers, args.session_type)
        except HintError as exc:
            flag = {"num_speakers": "--speakers"}.get(exc.field, "--" + exc.field.replace("_", "-"))
            parser.error(f"{flag}: {exc.message}")
        run = process(args.audio, args.json_out, hints.num_speakers, args.quiet, args.note, hints)
    elif args.command == "serve":
        run = serve(args.host, args.port)
    elif args.command == "users" and args.users_command == "create":
        run = create_user_command(args.email, _read_password(args.password), args.role)
    elif args.command == "users":
        password = _read_password(args.password) if args.users_command == "set-password" else None
        run = manage_user_command(args.users_command, args.email, password)
    elif args.command == "db":
        run = db_upgrade()
    else:
        raise SystemExit(f"unknown command {args.command}")
    try:
        code = asyncio.run(run)
    except (RuntimeError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


def entry() -> NoReturn:
    """The `therapybridge` command (and `python -m therapybridge.cli`): main(), then an exit without
    interpreter finalization. In-process callers (tests) call main(), which raises SystemExit as usual."""
    try:
        main()
        code = 0
    except SystemExit as exc:
        if isinstance(exc.code, str):  # argparse and sys.exit("message") print nothing themselves
            print(exc.code, file=sys.stderr)
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    _exit_now(code)


def _exit_now(code: int) -> NoReturn:
    """Exit without interpreter finalization (as docker/healthcheck.py does, for the same reason).

    A Temporal client runs on the SDK's Rust (Tokio) runtime, whose threads are never joined (the SDK
    cannot shut them down: temporalio/sdk-python#300). One that has just completed a call still
    holds a Python thread state; if CPython is finalizing when it releases it, the process aborts
    ("Fatal Python error: PyGILState_Release ...", SIGABRT) or segfaults after the command itself
    succeeded. Everything the commands start is stopped in their own `finally`, so nothing is left
    for finalization to do but flush logs and output, done here before os._exit.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`therapybridge process x | head`)
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
