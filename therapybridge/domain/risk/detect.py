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
    AMOUNT_ANSWER,
    CHILD,
    CONSUMES,
    DRUG_WORDS,
    ECHO_STARTS,
    MINIMISED,
    NOT_A_DENIAL,
    QUANTITY,
    SOBER,
    SOFT_DRINKS,
    SUBSTANCE_QUESTION,
    TRIGGERS,
    USE_NEGATORS,
    USE_OF_IT,
    USE_UNITS,
    YOUR_USE,
)
from therapybridge.domain.risk.sentences import Sentence, normalise, split_sentences
from therapybridge.domain.risk.severity import NAMED_BEFORE, PLAIN_USE, _context_cues, _severity


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


def _own_use(s: Sentence) -> bool:
    """The use is the speaker's own: first person, or an amount ("five or six beers")."""
    return bool(set(s.tokens) & _FIRST_ANY) or bool(QUANTITY.search(s.norm))


def _uses_drug_named_before(s: Sentence, sentences: list[Sentence]) -> bool:
    """First-person use of "it" or "that" when one of the two sentences before names a drug (not alcohol: "I had
    it" after "a drink" is too loose)."""
    if not USE_OF_IT.search(s.norm) or _negated_use(s):
        return False
    return any(DRUG_WORDS.search(o.norm) for o in sentences[max(0, s.index - 2) : s.index])


def _negated_use(s: Sentence) -> bool:
    return bool(set(s.tokens) & USE_NEGATORS)


def _client_question(s: Sentence) -> bool:
    """A clarifying question ("What, like suicidal?", "You mean drugs?") discloses nothing; a rhetorical one
    ("What's the point of living?") may."""
    if not s.is_question or set(s.tokens) & _FIRST_ANY:
        return False
    t = tuple(s.tokens)
    return len(t) <= 3 or any(t[: len(p)] == p for p in ECHO_STARTS) or "you mean" in s.norm


def _question_types(s: Sentence) -> list[RiskType]:
    if not (s.is_question or s.tokens[:1] == ["any"]):
        return []
    if not set(s.tokens) & {"you", "your", "yourself", "you've", "you're"}:
        return []
    types: list[RiskType] = [t for t, rx in _Q_TOPICS if rx.search(s.norm)]
    if SUBSTANCE_QUESTION.search(s.norm):
        types.append("substance_use")
    return types


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
    answer = [o for o in later if o.turn == turn]
    if q.speaker != "Unknown" and len(answer) == 1 and _client_question(answer[0]):
        # "What, like suicidal?" - "Yes." - "No, I would never do that.": the answer is the client's next turn
        rest = [o for o in later if o.turn > turn + 1 and o.speaker == answer[0].speaker]
        if rest and rest[0].turn == turn + 2 and rest[0].start - answer[0].end <= 20.0:
            return [o for o in rest if o.turn == rest[0].turn][:2]
    return answer[:2]


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
        if not s.tokens or not may_be_client(s) or _client_question(s):
            continue
        pos: dict[RiskType, set[str]] = {}
        neg: set[RiskType] = set()
        for m in sentence_matches(s):
            if m.type == "substance_use" and m.status == "negated" and SOBER.search(s.norm):
                neg.add(m.type)  # "I haven't had a drink in six months": denies current use
                continue
            if m.type == "substance_use" and not _own_use(s):
                continue  # someone's drinking in general, not the client's
            if m.type == "substance_use" and m.status == "negated" and MINIMISED.search(s.norm):
                pos.setdefault(m.type, set()).add("minimised")  # "I don't drink that much": use, played down
                continue
            if m.status == "positive":
                pos.setdefault(m.type, set()).add(m.kind)
            elif m.status == "negated" and not (m.type == "substance_use" and NOT_A_DENIAL.search(s.norm)):
                neg.add(m.type)
        if "substance_use" not in pos and _uses_drug_named_before(s, sentences):
            pos["substance_use"] = {"named_before"}  # "so I've tried it" just after oxycodone was named
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
            # "Not really. Maybe one or two drinks at a party.": an amount answers with use, not a denial
            said = " ".join(o.norm for o in ans)
            amount = (
                type_ == "substance_use"
                and not SOFT_DRINKS.search(q.norm + " " + said)  # "how much coffee do you drink?"
                and bool(AMOUNT_ANSWER.search(first) or (AMOUNT_ANSWER.search(said) and USE_UNITS.search(said)))
            )
            if type_ == "substance_use" and SOFT_DRINKS.search(q.norm):
                continue
            if _NO.search(first) and not amount:
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
            elif amount or (
                _YES.search(first) and not re.search(r"\b(?:no|not|never)\b", " ".join(first.split()[1:3]))
            ):
                flags.append(
                    RiskFlag(
                        type=type_,
                        severity="low" if type_ == "substance_use" else "moderate",
                        quote=quote,
                        start=round(a, 2),
                        end=round(b, 2),
                        speaker=spk,
                        rationale=("gave an amount" if amount else "answered yes")
                        + " to a direct question about "
                        + type_.replace("_", " "),
                    )
                )
    flags.sort(key=lambda f: (f.start, f.type))
    denials.sort(key=lambda d: (d.start, d.type))
    therapist_asks = any(
        s.role == "therapist" and YOUR_USE.search(s.norm) and not SOFT_DRINKS.search(s.norm) for s in sentences
    )
    flags = _substance_flags(flags, therapist_asks)
    return _strongest(flags), _dedupe_denials(_substance_denials(denials, flags))


def _substance_flags(flags: list[RiskFlag], therapist_asks: bool) -> list[RiskFlag]:
    """Plain mentions of own use ("the hangovers, the money") are shown only when nothing stronger was said
    about that class (alcohol, drugs). One plain mention of drinking ("a glass of wine at dinner") is not a
    risk, unless the therapist makes the client's drinking a topic."""
    subst = [f for f in flags if f.type == "substance_use"]
    plain = [f for f in subst if f.rationale.startswith(PLAIN_USE)]
    # Naming alcohol without drinking it ("I was in charge of the wine") is not use, unless the therapist has
    # made the client's drinking the topic ("number of drinks" then means the client's own).
    gone = {
        id(f)
        for f in plain
        if _drug_class(f.quote, f.rationale) == "alcohol"
        and not therapist_asks
        and not CONSUMES.search(normalise(f.quote))
    }
    flags = [f for f in flags if id(f) not in gone]
    subst = [f for f in subst if id(f) not in gone]
    plain = [f for f in plain if id(f) not in gone]
    # Beside a moderate or high statement of the same class, a low one adds nothing for the clinician.
    plain += [
        f
        for f in subst
        if f.severity == "low"
        and f not in plain
        and any(
            g.severity != "low" and _drug_class(g.quote, g.rationale) == _drug_class(f.quote, f.rationale)
            for g in subst
        )
    ]
    drop: set[int] = set()
    for cls in ("alcohol", "drugs"):
        mine = [f for f in plain if _drug_class(f.quote, f.rationale) == cls]
        stronger = any(
            f.type == "substance_use" and f not in plain and _drug_class(f.quote, f.rationale) == cls for f in flags
        )
        if stronger or (cls == "alcohol" and len(mine) < 2 and not therapist_asks):
            drop.update(id(f) for f in mine)
    return [f for f in flags if id(f) not in drop]


def _drug_class(text: str, rationale: str = "") -> str:
    named = DRUG_WORDS.search(normalise(text)) or NAMED_BEFORE in rationale
    return "drugs" if named else "alcohol"


def _substance_denials(denials: list[Denial], flags: list[RiskFlag]) -> list[Denial]:
    """A substance denial stands only where that class (alcohol, drugs) was not flagged: "I don't drink
    much" beside flagged drinking is not a denial, "no street drugs" beside flagged drinking is."""
    used = {_drug_class(f.quote, f.rationale) for f in flags if f.type == "substance_use"}
    return [d for d in denials if d.type != "substance_use" or _drug_class(d.quote) not in used]


MAX_FLAGS_PER_TYPE = 5


def _strongest(flags: list[RiskFlag]) -> list[RiskFlag]:
    """At most MAX_FLAGS_PER_TYPE flags of a type (the most severe, then the earliest), in time order.

    A drinking conversation mentions drinking in every other sentence; the clinician needs the few
    statements that carry the risk, and the transcript keeps the rest."""
    rank = {"high": 0, "moderate": 1, "low": 2}
    keep: list[RiskFlag] = []
    for type_ in dict.fromkeys(f.type for f in flags):
        of_type = sorted((f for f in flags if f.type == type_), key=lambda f: (rank[f.severity], f.start))
        keep += of_type[:MAX_FLAGS_PER_TYPE]
    return sorted(keep, key=lambda f: (f.start, f.type))


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
