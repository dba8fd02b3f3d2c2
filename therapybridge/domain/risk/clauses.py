"""Clause rules: whose words a phrase is (the client's, someone else's), negation, hypotheticals, questions."""

from __future__ import annotations

from therapybridge.domain.risk.lexicon import (
    _ATTRIBUTION,
    _CONSEQUENT,
    _FIRST_ANY,
    _FIRST_PERSON,
    _IF_CUES,
    _IF_NOT_AFTER,
    _KIN,
    _NEGATORS,
    _NOT_NEGATING_NEXT,
    _OTHER_SUBJECT,
    _SECOND,
    _THERAPIST_FRAME,
)
from therapybridge.domain.risk.sentences import Sentence


def _token_at(s: Sentence, char: int) -> int:
    """Index of the token that contains (or follows) char offset `char` of s.norm."""
    lo = 0
    for i, off in enumerate(s.offsets):
        if off > char:
            break
        lo = i
    return lo


def _clause_start(s: Sentence, i: int) -> int:
    while i > 0 and not s.boundary[i]:
        i -= 1
    return i


def _hypothetical(s: Sentence, i: int) -> bool:
    """True when token i lies in the antecedent of a conditional ("if I ever felt like ...")."""
    t = s.tokens
    cue = -1
    for k in range(_clause_start(s, i), i + 1):
        w, prev = t[k], (t[k - 1] if k > 0 else "")
        if w == "if":
            if prev not in _IF_NOT_AFTER or prev == "even":
                cue = k
        elif w in _IF_CUES or (w == "case" and prev == "in"):
            cue = k
    if cue < 0:
        return False
    for k in range(cue + 2, i + 1):  # a consequent started before the trigger: "if X I'll Y"
        if t[k] in _CONSEQUENT or (t[k] == "i" and k + 1 < len(t) and t[k + 1] in ("will", "would", "am", "might")):
            return False
    return True


def _subject_window(s: Sentence, v: int) -> tuple[int, str]:
    """Walk back from token v to its subject; return (start index of the window, subject kind).

    kind: "first" (I), "other" (he/she/they/you/we, my friend ...), or "none" (clause start reached).
    """
    t = s.tokens
    k = v - 1
    stop = max(_clause_start(s, v), v - 8)
    while k >= stop:
        w = t[k]
        if w in _FIRST_PERSON:
            return k, "first"
        owner = {t[k - 1] if k > 0 else "", t[k - 2] if k > 1 else ""}
        if w in _OTHER_SUBJECT or (w in _KIN and owner & {"my", "his", "her", "their", "a", "our"}):
            return k, "other"
        k -= 1
    return max(stop, 0), "none"


def _negated(s: Sentence, a: int, b: int) -> bool:
    """A negator among tokens [a, b) (the span between the subject and the key phrase)."""
    t = s.tokens
    for k in range(a, b):
        w = t[k]
        if w in _NEGATORS:
            nxt = t[k + 1] if k + 1 < len(t) else ""
            if nxt in _NOT_NEGATING_NEXT or (w == "no" and nxt == "longer"):
                continue
            return True
    # "it's not that I ...", "I don't think I ...": a negated frame just before the subject
    pre = t[max(0, a - 3) : a]
    return bool(pre) and (
        pre[-2:] in (["not", "that"], ["not", "like"])
        or (len(pre) >= 2 and pre[-2] in _NEGATORS and pre[-1] in ("think", "feel", "believe", "say"))
    )


def _attributed(s: Sentence, subj: int) -> bool:
    """Someone else's words or worry: "my mom worries I'll hurt myself"."""
    t = s.tokens
    pre = t[max(_clause_start(s, subj), subj - 6) : subj]
    if not any(w in _ATTRIBUTION for w in pre):
        return False
    return any(w in _OTHER_SUBJECT or w in _KIN for w in pre) and not any(w in _FIRST_PERSON for w in pre)


def _addressed_to_other(s: Sentence) -> bool:
    """Second person and no first person: "you ..." speech (a therapist's, when roles are unknown)."""
    toks = set(s.tokens)
    return bool(toks & _SECOND) and not toks & _FIRST_ANY


def _second_person_question(s: Sentence) -> bool:
    return s.is_question and _addressed_to_other(s)


def may_be_client(s: Sentence) -> bool:
    """Only the client's speech raises flags. An unknown role counts as possibly the client, except for
    obvious therapist speech: second-person questions and statements, and instructions to the client."""
    if s.role == "therapist":
        return False
    if s.role is None:
        return not (_addressed_to_other(s) or _THERAPIST_FRAME.search(s.norm))
    return True
