"""Strategies: how a session uses the techniques of the catalogue (strategies_catalogue.py): introduced,
practiced or reviewed, with the evidence."""

from __future__ import annotations

from therapybridge.document import Strategy
from therapybridge.domain.clock import clock
from therapybridge.domain.notes.skills import evidence
from therapybridge.domain.notes.skills_lexicon import CATALOGUE_KIND
from therapybridge.domain.notes.strategies_catalogue import CATALOGUE
from therapybridge.domain.notes.text import _rx
from therapybridge.domain.risk import Sentence

_PRIOR = _rx(
    r"last (?:week|time|session)",
    r"since we last",
    r"you (?:started|agreed to try|tried|did|kept|were doing)",
    r"how did (?:that|it) go",
    r"we talked about",
    r"you've been (?:doing|practicing|practising|using|filling)",
    r"you mentioned",
    r"from last",
)
_PRACTICE = _rx(
    r"practi[cs]e it now",
    r"try it now",
    r"let's (?:try|practi[cs]e|do) (?:it|that|this)",
    r"i'll play",
    r"role ?play",
    r"would you be willing to practi[cs]e",
    r"using (?:\w+ )?as the example",
)


_NEW = _rx(r"introduce", r"new", r"something with you today", r"it's called", r"an approach called")


def _practice_near(sents: list[Sentence], i: int, mentioned: dict[int, set[str]]) -> bool:
    own = mentioned.get(i, set())
    for j in range(i, min(len(sents), i + 6)):
        if j > i and mentioned.get(j, set()) - own:
            return False  # another technique is being discussed now
        if _PRACTICE.search(sents[j].norm):
            return True
    return False


def find_strategies(sents: list[Sentence], marks: list[tuple[int, str]] | None = None) -> list[Strategy]:
    """Catalogue techniques used in the session; `marks` (if given) receives (sentence, name) mentions."""
    hits: dict[str, list[int]] = {}
    mentioned: dict[int, set[str]] = {}
    for s in sents:
        for tech in CATALOGUE:
            if tech.pattern.search(s.norm):
                hits.setdefault(tech.key, []).append(s.index)
                mentioned.setdefault(s.index, set()).add(tech.key)
    out: list[Strategy] = []
    for tech in CATALOGUE:
        idx = hits.get(tech.key)
        if not idx or any(k in hits for k in tech.superseded_by):
            continue
        if not any(sents[i].role in ("therapist", None) for i in idx):
            continue  # only the client named it: "breathing" in passing is not a technique the session used
        # Earlier work when one of the first mentions itself points back ("last week you started the diary");
        # a mention that presents it as new ("I'd like to introduce ...") is never earlier work.
        first = idx[0]
        prior = any(_PRIOR.search(sents[i].norm) and not _NEW.search(sents[i].norm) for i in idx[:2])
        # Practised in session: a practice cue in the mention or the few sentences after it, before another
        # technique takes the floor.
        practiced = any(_practice_near(sents, i, mentioned) for i in idx)
        status = ("practiced" if practiced else "reviewed") if prior else "introduced"
        name = tech.namer(sents, idx) if tech.namer else tech.name
        by = "therapist" if any(sents[i].role == "therapist" for i in idx) else "client"
        when = clock(sents[first].start)
        context = {
            "introduced": f"introduced at {when}" + ("; tried together in session" if practiced else ""),
            "practiced": f"from earlier work; practised in session at {when}",
            "reviewed": f"from earlier work; reviewed at {when}",
        }[status] + (f" (raised by the {by})" if by == "client" else "")
        out.append(
            Strategy(
                name=name,
                category=tech.category,
                status=status,
                context=context,
                key=CATALOGUE_KIND.get(tech.key, tech.key),
                evidence=evidence([sents[i] for i in idx]),
            )
        )
        if marks is not None and tech.category not in ("psychoeducation", "self-monitoring"):
            marks.extend((i, name) for i in idx)
    if marks is not None:
        marks.sort()
    return out
