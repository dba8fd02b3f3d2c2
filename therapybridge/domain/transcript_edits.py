"""Clinician corrections of a transcript (issue 16), as pure functions: fix a line's words, give a
line to the other speaker, change speakers' roles. The versions, the re-notes and the HTTP live in
therapybridge.transcript_versions, workflows/renotes.py and api/routes/transcript.py."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from therapybridge.document import Segment, Speaker

MAX_LINE = 5000  # one transcript line, not a document


class EditError(ValueError):
    """An edit that does not fit the transcript (no such line or speaker, empty text)."""


@dataclass(frozen=True)
class LineEdit:
    index: int  # position in transcript_segments
    text: str | None = None  # the corrected words; None keeps them
    speaker: str | None = None  # another speaker's label; None keeps it


def clean_text(text: str) -> str:
    """One line of speech: no control characters, whitespace collapsed."""
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t\n" for ch in text):
        raise EditError("the text must not contain control characters")
    cleaned = " ".join(text.split())
    if not cleaned:
        raise EditError("a line cannot be empty; give it to the right speaker instead")
    if len(cleaned) > MAX_LINE:
        raise EditError(f"a line is at most {MAX_LINE} characters")
    return cleaned


def apply_edits(segments: list[Segment], speakers: list[Speaker], edits: list[LineEdit]) -> tuple[list[Segment], int]:
    """The segments with the edits applied, and how many lines changed. A corrected line loses its
    word timings (they belonged to the misheard words) and its counselling-skill label (re-notes
    label it again); a reassigned line takes its new speaker's role."""
    role_of = {s.label: s.role for s in speakers}
    out = list(segments)
    changed: set[int] = set()
    for e in edits:
        if not 0 <= e.index < len(out):
            raise EditError(f"no line {e.index} in this transcript")
        seg = out[e.index]
        update: dict[str, object] = {}
        if e.text is not None:
            text = clean_text(e.text)
            if text != seg.text:
                update |= {"text": text, "words": [], "behaviour": None}
        if e.speaker is not None and e.speaker != seg.speaker:
            if e.speaker not in role_of:
                raise EditError(f"unknown speaker {e.speaker!r}")
            update |= {"speaker": e.speaker, "role": role_of[e.speaker], "behaviour": None}
        if update:
            out[e.index] = seg.model_copy(update=update)
            changed.add(e.index)
    return out, len(changed)


def names_follow_roles(before: list[Speaker], after: list[Speaker], named: set[str]) -> list[Speaker]:
    """Display names belong to the role, not the voice: when roles are swapped, the names go with
    them, so the therapist's name never lands on the client. A speaker whose new role had exactly one
    holder before (who changed role too) takes that holder's name, unless the request named it
    (`named`). Any other role change keeps the names where they were."""
    old = {s.label: s for s in before}
    holders: dict[str | None, list[Speaker]] = {}
    for s in before:
        holders.setdefault(s.role, []).append(s)
    out = []
    for s in after:
        prev = old.get(s.label)
        if prev is None or prev.role == s.role or s.label in named:
            out.append(s)
            continue
        was = holders.get(s.role, [])
        moved = len(was) == 1 and was[0].label != s.label and _role_of(after, was[0].label) != s.role
        out.append(s.model_copy(update={"name": was[0].name}) if moved else s)
    return out


def _role_of(speakers: list[Speaker], label: str) -> str | None:
    return next((s.role for s in speakers if s.label == label), None)


def with_roles(segments: list[Segment], speakers: list[Speaker]) -> list[Segment]:
    """Each segment with its speaker's current role."""
    role_of = {s.label: s.role for s in speakers}
    return [s.model_copy(update={"role": role_of.get(s.speaker)}) for s in segments]


def roles_changed(before: list[Speaker], after: list[Speaker]) -> bool:
    return {s.label: s.role for s in before} != {s.label: s.role for s in after}
