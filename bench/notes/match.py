"""When a produced quote or item matches an expected one: normalised text, fuzzy quotes, content-word Dice."""

from __future__ import annotations

import re

from rapidfuzz import fuzz

QUOTE_THRESHOLD = 60.0

# Number words ASR may write as digits (and back), so "five four three" matches "5, 4, 3".
_NUM = {
    "0": "zero",
    "1": "one",
    "2": "two",
    "3": "three",
    "4": "four",
    "5": "five",
    "6": "six",
    "7": "seven",
    "8": "eight",
    "9": "nine",
    "10": "ten",
    "20": "twenty",
}


def norm(text: str) -> str:
    t = text.lower().replace("-", " ").replace("’", "'")
    t = re.sub(r"[^a-z0-9' ]+", " ", t)
    return " ".join(_NUM.get(w, w) for w in t.split())


def quote_match(a: str, b: str) -> bool:
    """Two renderings of the same client sentence (ASR vs script): containment or close fuzzy match."""
    na, nb = norm(a), norm(b)
    if not na or not nb:
        return False
    if na in nb or nb in na:
        return True
    return fuzz.token_set_ratio(na, nb) >= QUOTE_THRESHOLD and fuzz.partial_ratio(na, nb) >= QUOTE_THRESHOLD


# Function words ignored when comparing items; "after", "until", "out", "once" etc. stay (they carry meaning).
_STOP = frozenset(
    str.split(
        "a an the to of and or in on at for with your you my i me it its this that these those be is are was were "
        "will would can could should do does did have has had so just also some any each very really maybe please "
        "like then there their them they he she we us our his her about from by as into than"
    )
)


def stem(w: str) -> str:
    """Crude suffix stripping so 'practicing'/'practice', 'records'/'record', 'behavioural'/'behavioral' meet."""
    w = w.replace("behaviour", "behavior").replace("practis", "practic")
    for suf, rep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suf) and len(w) - len(suf) >= 3 and not (suf == "s" and w.endswith("ss")):
            w = w[: -len(suf)] + rep
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiousl":
        w = w[:-1]
    return w


def content(text: str) -> set[str]:
    return {stem(w) for w in norm(text).split() if w not in _STOP}


def item_score(expected: str, produced: str) -> float:
    """Dice coefficient of the two content-word sets (0..1)."""
    a, b = content(expected), content(produced)
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def greedy_match(expected: list[str], produced: list[str], threshold: float) -> tuple[int, list[tuple[str, str]]]:
    """Expected items matched one-to-one by produced items (best pairs first, score >= threshold)."""
    pairs: list[tuple[float, int, int]] = []
    for i, e in enumerate(expected):
        for j, p in enumerate(produced):
            score = item_score(e, p)
            if score >= threshold:
                pairs.append((score, i, j))
    used_e: set[int] = set()
    used_p: set[int] = set()
    matched: list[tuple[str, str]] = []
    for _score, i, j in sorted(pairs, reverse=True):
        if i in used_e or j in used_p:
            continue
        used_e.add(i)
        used_p.add(j)
        matched.append((expected[i], produced[j]))
    return len(used_e), matched
