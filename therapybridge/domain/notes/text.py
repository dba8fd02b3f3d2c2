"""Small text helpers shared by the notes modules."""

from __future__ import annotations

import re


def _rx(*alts: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alts) + r")\b")
