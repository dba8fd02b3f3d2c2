"""Severity of a risk flag from explicit rules: plan, intent, means, recency and history."""

from __future__ import annotations

import re

from therapybridge.document import RiskType, Severity
from therapybridge.domain.risk.clauses import _second_person_question
from therapybridge.domain.risk.lexicon import (
    _NEGATORS,
    FREQUENT,
    HISTORICAL,
    HTO_INTENT,
    HTO_SOFT,
    INTENT,
    MEANS,
    MEDICAL,
    PLAN,
    RECENT,
    SUBST_HIGH,
    SUBST_LOW,
    SUBST_MODERATE,
    WEAPON,
)
from therapybridge.domain.risk.sentences import Sentence


def _substance_cue(flat: str) -> Severity | None:
    if SUBST_HIGH.search(flat):
        return "high"
    if SUBST_MODERATE.search(flat):
        return "moderate"
    if SUBST_LOW.search(flat):
        return "low"
    return None


_LEVELS: tuple[Severity, ...] = ("low", "moderate", "high")
PLAIN_USE = "own use mentioned"
NAMED_BEFORE = "of a drug named just before"


def _bump(level: int, by: int = 1) -> int:
    return max(0, min(2, level + by))


def _context_cues(s: Sentence, sentences: list[Sentence], window_s: float = 120.0) -> str:
    """Flat text of the same speaker's nearby sentences (not the sentence itself), for plan/means cues."""
    parts = []
    for o in sentences:
        if o is s or o.speaker != s.speaker or abs(o.start - s.start) > window_s:
            continue
        if o.is_question and _second_person_question(o):
            continue
        # Negated plan/means talk ("it's more of a feeling than a plan", "I don't keep medication") is
        # protective, not a raiser: keep only clauses without a negator.
        if not (set(o.tokens) & _NEGATORS) and " than a plan" not in o.norm:
            parts.append(o.norm)
    return " | ".join(parts)


def _severity(type_: RiskType, kinds: set[str], s: Sentence, context: str, has_si_nearby: bool) -> tuple[Severity, str]:
    """Explicit rules; returns (severity, rationale). The rationale never quotes the transcript."""
    flat = s.norm
    hist = bool(HISTORICAL.search(flat)) and not RECENT.search(flat)
    why: list[str] = []
    if type_ == "suicidal_ideation":
        active = bool(kinds & {"active"})
        if "attempt" in kinds:
            why.append("suicide attempt mentioned")
        why.append(
            "active suicidal ideation"
            if active
            else ("passive suicidal ideation" if "passive" in kinds else "expressed hopelessness about going on")
        )
        level = 0 if kinds <= {"distress"} else 1
        if hist:
            level = 1 if "attempt" in kinds else 0
            why.append("described as past")
        else:
            if active and RECENT.search(flat):
                level = _bump(level)
                why.append("recent")
            if PLAN.search(flat) or PLAN.search(context):
                level = _bump(level)
                why.append("plan mentioned")
            if MEANS.search(flat) or MEANS.search(context):
                level = _bump(level)
                why.append("access to means mentioned")
            if active and INTENT.search(flat):
                level = _bump(level)
                why.append("intent expressed")
            if "attempt" not in kinds and re.search(r"\b(?:tried|attempted) to (?:kill|end)|suicide attempt", context):
                level = _bump(level)
                why.append("past attempt mentioned")
        return _LEVELS[level], "; ".join(why)
    if type_ == "self_harm":
        why.append("urges to self-harm" if kinds == {"urge"} else "self-harm described")
        level = 1
        if hist:
            level = 0
            why.append("described as past")
        elif MEDICAL.search(flat) or FREQUENT.search(flat):
            level = 2
            why.append("medical severity or escalating frequency")
        if has_si_nearby and level < 2 and not hist:
            why.append("suicidal ideation in the same session")
        return _LEVELS[level], "; ".join(why)
    if type_ == "harm_to_others":
        level = 1
        if "stalking" in kinds:
            why.append("monitoring or following another person")
        if "revenge" in kinds:
            why.append("revenge or indirect threat")
        if kinds & {"threat", "ideation"}:
            why.append("thoughts or statements of harming another person")
            if HTO_INTENT.search(flat):
                level = 2
                why.append("intent or plan")
            elif "threat" in kinds and HTO_SOFT.search(flat) and not (kinds & {"stalking", "revenge"}):
                level = 0
                why.append("possibly a figure of speech")
        if WEAPON.search(flat) or WEAPON.search(context):
            level = _bump(level)
            why.append("weapon mentioned")
        if hist:
            level = 0
            why.append("described as past")
        return _LEVELS[level], "; ".join(why)
    if type_ == "substance_use":
        found = _substance_cue(flat)
        cue = found or "low"
        if found is None:
            why.append(PLAIN_USE)
        else:
            why.append(
                {
                    "high": "dangerous pattern (injecting, overdose, withdrawal, blackouts, morning use, driving)",
                    "moderate": "heavy, frequent or escalating use",
                    "low": "increase in use",
                }[cue]
            )
        if "minimised" in kinds:
            why.append("use played down")
        if "named_before" in kinds:
            why.append(NAMED_BEFORE)
        if hist:
            why.append("described as past")
            return "low", "; ".join(why)
        return cue, "; ".join(why)
    # abuse_or_neglect
    level = 1
    if kinds & {"victim", "threatened", "sexual", "perpetrator"}:
        level = 2
        why.append(
            {
                "victim": "client describes being harmed",
                "threatened": "client describes threats",
                "sexual": "sexual abuse described",
                "perpetrator": "harm to a child described",
            }[next(k for k in ("sexual", "perpetrator", "threatened", "victim") if k in kinds)]
        )
        if "victim" in kinds and re.search(r"\bhurt(?:s|ing)? (?:me|us)\b", flat) and not (kinds - {"victim"}):
            level = 1
    if "fear" in kinds:
        why.append("client afraid of a person at home")
    if "control" in kinds:
        why.append("controlling behaviour")
    if "neglect_adult" in kinds:
        why.append("possible neglect of a dependent adult")
    if "neglect" in kinds:
        why.append("possible neglect of a dependent")
    if hist:
        level = 0
        why.append("described as past")
    return _LEVELS[level], "; ".join(why)
