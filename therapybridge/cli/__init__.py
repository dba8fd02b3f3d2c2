"""The `therapybridge` command: app.py parses and dispatches, one module per command group.

process.py (one recording end to end), notes.py (a transcript alone), serve.py (the gateway), admin.py
(users, db); stack.py starts the one-machine stack, render.py prints a session in a terminal.
"""

from therapybridge.cli.app import entry, main

__all__ = ["entry", "main"]  # the console script (pyproject: therapybridge.cli:entry) and in-process callers
