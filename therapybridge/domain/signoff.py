"""Sign-off rules that need no database: the identity of a risk flag, the first drafts the engine
proposes, and the diff between two versions of a note. Pure functions."""

from __future__ import annotations

import difflib
import hashlib

from therapybridge.document import ExtractedNotes, RiskFlag, Segment
from therapybridge.domain.note_formats import Format, render_note

KINDS = ("note", "summary")
FINAL_STATUS = {"note": "signed", "summary": "approved"}  # the locked state of each kind
DECISIONS = ("acknowledged", "dismissed")


def make_flag_id(flag: RiskFlag) -> str:
    """A stable id for a finding: the same statement flagged the same way keeps its id (and so its
    review) when the session is processed again. Derived, not reversible: no quote in the id."""
    key = f"{flag.type}|{flag.start:.2f}|{flag.end:.2f}|{flag.speaker}|{flag.quote}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def engine_note(notes: ExtractedNotes, fmt: Format, segments: list[Segment] | None = None) -> str:
    """The draft the engine proposes for the clinical note (the clinician edits and signs it)."""
    return render_note(notes, fmt, segments)


def engine_summary(notes: ExtractedNotes) -> str | None:
    return notes.patient_summary.strip() or None


def diff(before: str, after: str, before_name: str = "before", after_name: str = "after") -> str:
    """A unified diff, line by line: what an edit changed."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), before_name, after_name, n=2
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
