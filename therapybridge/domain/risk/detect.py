"""Risk detection over sentences: trigger matches with their clause status become flags or denials."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from therapybridge.document import Denial, RiskFlag, RiskType, Segment
from therapybridge.domain.risk.clauses import (
    _attributed,
    _hypothetical,
    _negated,
    _subject_window,
    _token_at,
    may_be_client,
)
from therapybridge.domain.risk.lexicon import (
    _FIRST_ANY,
    _NEGATED_AFTER,
    _NO,
    _Q_TOPICS,
    _YES,
    ACCIDENT,
    CHILD,
    QUANTITY,
    SOBER,
    TRIGGERS,
)
from therapybridge.domain.risk.sentences import Sentence, split_sentences
from therapybridge.domain.risk.severity import _context_cues, _severity, _substance_cue


@dataclass
class Match:
    type: RiskType
    kind: str
    status: str  # positive | negated | hypothetical | other
    token: int


def sentence_matches(s: Sentence) -> list[Match]:
    """Every trigger in the sentence with the status its clause gives it."""
    out: list[Match] = []
    seen: set[tuple[str, int]] = set()
    for trig in TRIGGERS:
        for m in trig.pattern.finditer(s.norm):
            grp = "v" if m.group("v") is not None else "w"
            v = _token_at(s, m.start(grp))
            a = _token_at(s, m.start())
            if (trig.type, v) in seen:
                continue
            seen.add((trig.type, v))
            # The negation window runs from the phrase's subject to its key words; a phrase that carries
            # its own negation ("don't want to live") is only negated from outside ("it's not that ...").
            end = a if trig.builtin_negation else v
            if not trig.self_subject and a < v:
                subj, kind = a, "first"  # the subject is part of the pattern ("I would never hurt him")
            else:
                subj, kind = _subject_window(s, end)
            if _hypothetical(s, v):
                status = "hypothetical"
            elif (
                (trig.self_subject and (kind == "other" or (kind == "first" and _attributed(s, subj))))
                or (trig.type == "self_harm" and ACCIDENT.search(s.norm))
                or (trig.kind == "neglect" and not CHILD.search(s.norm))
            ):
                status = "other"  # someone else's act or words, an accident, or no dependent involved
            elif _negated(s, subj, end) or _NEGATED_AFTER.search(s.norm[m.end() :]):
                status = "negated"
            else:
                status = "positive"
            out.append(Match(trig.type, trig.kind, status, v))
    return out


def _substance_risk(s: Sentence) -> bool:
    """A risk cue, and the use is the speaker's own: first person, or an amount ("five or six beers")."""
    if _substance_cue(s.norm) is None:
        return False
    return bool(set(s.tokens) & _FIRST_ANY) or bool(QUANTITY.search(s.norm))


def _question_types(s: Sentence) -> list[RiskType]:
    if not (s.is_question or s.tokens[:1] == ["any"]):
        return []
    if not set(s.tokens) & {"you", "your", "yourself", "you've", "you're"}:
        return []
    return [t for t, rx in _Q_TOPICS if rx.search(s.norm)]


def _answer(sentences: list[Sentence], q: Sentence) -> list[Sentence]:
    """The first sentences (up to two) of the next turn, if it starts soon after the question.

    Without speaker labels every sentence is one turn: then the following sentences are taken.
    """
    later = sentences[q.index + 1 :]
    if q.speaker != "Unknown":
        later = [o for o in later if o.turn != q.turn]
    if not later or later[0].start - q.end > 20.0:
        return []
    turn = later[0].turn
    return [o for o in later if o.turn == turn][:2]


def _quote(answer: list[Sentence]) -> tuple[str, float, float, str]:
    first = answer[0]
    if len(first.tokens) <= 3 and len(answer) > 1:  # "No." alone says little: keep the next sentence too
        return f"{first.text} {answer[1].text}", first.start, answer[1].end, first.speaker
    return first.text, first.start, first.end, first.speaker


def detect_risks_in_sentences(sentences: list[Sentence]) -> tuple[list[RiskFlag], list[Denial]]:
    flags: list[RiskFlag] = []
    denials: list[Denial] = []
    per_sentence: dict[int, dict[RiskType, set[str]]] = {}
    negs: dict[int, set[RiskType]] = {}
    for s in sentences:
        if not s.tokens or not may_be_client(s):
            continue
        pos: dict[RiskType, set[str]] = {}
        neg: set[RiskType] = set()
        for m in sentence_matches(s):
            if m.type == "substance_use" and m.status == "negated" and SOBER.search(s.norm):
                neg.add(m.type)  # "I haven't had a drink in six months": denies current use
                continue
            if m.type == "substance_use" and not _substance_risk(s):
                continue  # a drink mentioned is not a risk: amount, frequency or harm cues are needed
            if m.status == "positive":
                pos.setdefault(m.type, set()).add(m.kind)
            elif m.status == "negated":
                neg.add(m.type)
        # Dependents mentioned with a substance-use flag: keep the two apart (substance flag only).
        if pos:
            per_sentence[s.index] = pos
        if neg - set(pos):
            negs[s.index] = neg - set(pos)

    si_times = [sentences[i].start for i, p in per_sentence.items() if "suicidal_ideation" in p]
    for i, pos in per_sentence.items():
        s = sentences[i]
        ctx = _context_cues(s, sentences)
        near_si = any(abs(t - s.start) <= 300 for t in si_times)
        for type_, kinds in pos.items():
            sev, why = _severity(type_, kinds, s, ctx, near_si)
            flags.append(
                RiskFlag(
                    type=type_,
                    severity=sev,
                    quote=s.text,
                    start=round(s.start, 2),
                    end=round(s.end, 2),
                    speaker=s.speaker,
                    rationale=why,
                )
            )
    for i, types in negs.items():
        s = sentences[i]
        for type_ in sorted(types):
            denials.append(
                Denial(
                    type=type_,
                    quote=s.text,
                    start=round(s.start, 2),
                    end=round(s.end, 2),
                    speaker=s.speaker,
                    rationale="client denies",
                )
            )

    # Direct risk questions answered with a plain yes or no.
    for q in sentences:
        if q.role == "client" or not q.tokens:
            continue
        qtypes = _question_types(q)
        if not qtypes:
            continue
        ans = _answer(sentences, q)
        if not ans or not may_be_client(ans[0]):
            continue
        first = ans[0].norm
        turn_sents = [o for o in sentences if o.turn == ans[0].turn]
        for type_ in qtypes:
            if any(type_ in per_sentence.get(o.index, {}) for o in turn_sents):
                continue  # the answer's own words already raised a flag of this type
            if any(type_ in negs.get(o.index, set()) for o in turn_sents):
                continue  # ... or an explicit denial
            quote, a, b, spk = _quote(ans)
            if _NO.search(first):
                denials.append(
                    Denial(
                        type=type_,
                        quote=quote,
                        start=round(a, 2),
                        end=round(b, 2),
                        speaker=spk,
                        rationale="answered no to a direct question",
                    )
                )
            elif _YES.search(first) and not re.search(r"\b(?:no|not|never)\b", " ".join(first.split()[1:3])):
                flags.append(
                    RiskFlag(
                        type=type_,
                        severity="moderate",
                        quote=quote,
                        start=round(a, 2),
                        end=round(b, 2),
                        speaker=spk,
                        rationale="answered yes to a direct question about " + type_.replace("_", " "),
                    )
                )
    flags.sort(key=lambda f: (f.start, f.type))
    denials.sort(key=lambda d: (d.start, d.type))
    return flags, _dedupe_denials(denials)


def _dedupe_denials(denials: Iterable[Denial]) -> list[Denial]:
    seen: set[tuple[str, float]] = set()
    out: list[Denial] = []
    for d in denials:
        if (d.type, d.start) not in seen:
            seen.add((d.type, d.start))
            out.append(d)
    return out


def detect_risks(segments: list[Segment]) -> tuple[list[RiskFlag], list[Denial]]:
    """Risk flags (client speech only) and documented denials, both with verbatim quotes and times."""
    return detect_risks_in_sentences(split_sentences(segments))
