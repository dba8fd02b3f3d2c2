"""Command line: `therapybridge process AUDIO`, `therapybridge notes TRANSCRIPT.json`, plus the service commands.

`process` runs one recording through the real workflow: it starts a local Temporal dev server and
both workers when nothing answers at TEMPORAL_ADDRESS, shows live progress from the workflow's
`progress` query, then prints the speaker-attributed transcript and the notes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

from therapybridge.cli.admin import create_user_command, db_upgrade, manage_user_command, read_password
from therapybridge.cli.notes import notes_command
from therapybridge.cli.process import process
from therapybridge.cli.serve import serve
from therapybridge.domain.speaker_hints import SESSION_TYPES, HintError, resolve_hints


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
        run = create_user_command(args.email, read_password(args.password), args.role)
    elif args.command == "users":
        password = read_password(args.password) if args.users_command == "set-password" else None
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
