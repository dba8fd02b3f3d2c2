"""Counselling skills the therapist used (reflections, affirmations, summaries, asking permission, ...).

Each skill in skills_lexicon.SKILLS counts when enough therapist sentences carry one of its cues; the
first few such sentences are its evidence. Only the therapist's words count: a client who mentions
"breathing" has not been taught a breathing exercise.
"""

from __future__ import annotations

import re
from functools import cache

from therapybridge.document import Evidence, Strategy
from therapybridge.domain.notes.skills_lexicon import SKILLS, Skill
from therapybridge.domain.risk import Sentence

MAX_EVIDENCE = 3
_SO_QUESTION = re.compile(r"^(?:(?:okay|ok|right|yeah|and|mm hmm|mm|so) )*so (?:you|it|your|that)\b")
# Telling, not reflecting: "you need to", "you should", "you know, ..." openers.
_ADVICE = re.compile(r"^(?:so |and )?you (?:need to|should|have to|must|know)\b|^you can (?:talk|call|go|try|ask)\b")


@cache
def _compiled(skill: Skill) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(c) for c in skill.cues)


def evidence(sents: list[Sentence]) -> list[Evidence]:
    return [
        Evidence(start=round(s.start, 2), end=round(s.end, 2), speaker=s.speaker, quote=s.text)
        for s in sents[:MAX_EVIDENCE]
    ]


def skill_sentences(skill: Skill, sents: list[Sentence]) -> list[Sentence]:
    """The therapist's sentences that show the skill."""
    rxs = _compiled(skill)
    return [
        s
        for s in sents
        if s.role == "therapist"
        and s.tokens
        and not (skill.statement_only and s.is_question and not _SO_QUESTION.search(s.norm))
        and not _ADVICE.search(s.norm)
        and any(rx.search(s.norm) for rx in rxs)
    ]


def find_skills(sents: list[Sentence], skip: set[str] = frozenset()) -> list[Strategy]:  # type: ignore[assignment]
    """The skills used in the session, except those whose key is in `skip` (found by the catalogue)."""
    out: list[Strategy] = []
    for skill in SKILLS:
        if skill.key in skip:
            continue
        hits = skill_sentences(skill, sents)
        if len(hits) < skill.min_sentences:
            continue
        out.append(
            Strategy(
                name=skill.name,
                category=skill.category,
                status="practiced",
                context=f"{len(hits)} therapist statement{'s' if len(hits) > 1 else ''}",
                key=skill.key,
                evidence=evidence(hits),
            )
        )
    return out
