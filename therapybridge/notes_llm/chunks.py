"""Long transcripts: the transcript as "[mm:ss] Speaker: ..." lines, cut into chunks at line boundaries,
and the answers for each chunk merged deterministically into one."""

from __future__ import annotations

import difflib
from typing import TypeVar

from therapybridge.document import Segment
from therapybridge.domain.clock import clock
from therapybridge.notes_llm.quotes import words
from therapybridge.notes_llm.schema import LlmAction, LlmNotes, LlmStrategy, LlmTopic

MAX_CHUNK_CHARS = 24_000  # about 6k tokens of transcript per request


def transcript_lines(segments: list[Segment]) -> list[str]:
    labels: dict[str, str] = {}
    out = []
    for s in sorted(segments, key=lambda x: x.start):
        who = s.role.capitalize() if s.role else labels.setdefault(s.speaker, f"Speaker {len(labels) + 1}")
        out.append(f"[{clock(s.start)}] {who}: {s.text.strip()}")
    return out


def chunk_lines(lines: list[str], max_chars: int = MAX_CHUNK_CHARS) -> list[str]:
    chunks: list[str] = []
    cur: list[str] = []
    size = 0
    for line in lines:
        if cur and size + len(line) + 1 > max_chars:
            chunks.append("\n".join(cur))
            cur, size = [], 0
        cur.append(line)
        size += len(line) + 1
    if cur:
        chunks.append("\n".join(cur))
    return chunks


def merge_parts(parts: list[LlmNotes]) -> LlmNotes:
    """One answer from the answers for each chunk: lists de-duplicated in order (the first mention keeps
    its wording and status, later mentions add their quotes), texts joined."""
    if len(parts) == 1:
        return parts[0]
    topics: dict[str, LlmTopic] = {}
    for p in parts:
        for t in p.key_topics:
            if t.text.strip():
                _first(topics, t.text.strip().lower(), t)
    strategies: dict[str, LlmStrategy] = {}
    for p in parts:
        for s in p.strategies:
            _first(strategies, s.name.strip().lower(), s)
    actions: dict[str, LlmAction] = {}
    for p in parts:
        for a in p.action_items:
            key = " ".join(sorted(words(a.task)))
            _first(actions, next((k for k in actions if _similar(key, k) >= 0.9), key), a)
    moods = list(dict.fromkeys(p.patient_mood.strip() for p in parts if p.patient_mood.strip()))
    return LlmNotes(
        key_topics=list(topics.values())[:8],
        patient_mood="; then ".join(moods[:1] + moods[-1:]) if len(moods) > 1 else "".join(moods),
        mood_quotes=[q for p in parts for q in p.mood_quotes],
        strategies=list(strategies.values()),
        action_items=list(actions.values()),
        risk_flags=[r for p in parts for r in p.risk_flags],
        therapist_notes="\n\n".join(p.therapist_notes.strip() for p in parts if p.therapist_notes.strip()),
        patient_summary="\n\n".join(p.patient_summary.strip() for p in parts if p.patient_summary.strip()),
    )


_Quoted = TypeVar("_Quoted", LlmTopic, LlmStrategy, LlmAction)


def _first(seen: dict[str, _Quoted], key: str, item: _Quoted) -> None:
    """Keep the first item under `key`; a later duplicate only adds its quotes."""
    if key in seen:
        seen[key] = seen[key].model_copy(update={"quotes": seen[key].quotes + item.quotes})
    else:
        seen[key] = item


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
