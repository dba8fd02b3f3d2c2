"""Small text helpers shared by the notes modules."""

from __future__ import annotations

import re

from therapybridge.domain.risk import Sentence


def _rx(*alts: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alts) + r")\b")


def window(sents: list[Sentence], idx: list[int], before: int = 2, after: int = 3) -> str:
    """The normalised text of the sentences around `idx` (context for naming what was discussed)."""
    keep: set[int] = set()
    for i in idx:
        keep.update(range(max(0, i - before), min(len(sents), i + after + 1)))
    return " ".join(sents[i].norm for i in sorted(keep))
