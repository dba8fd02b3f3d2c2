"""Notes and risk flags on real counselling conversations, scored against hand-written gold.

    python -m bench.notes_real [--gold bench/gold/annomi] [--corpus PATH] [--provider local|openai]
                               [--per-file] [--summaries N] [--limit N]

The conversations are the AnnoMI dataset's (Wu et al., ICASSP 2022), transcribed by people with the
correct speaker roles: the best case for the notes engine, with no ASR or diarization errors. The gold
(`bench/gold/annomi/*.json`, guidelines in `bench/gold/README.md`) was written from the transcripts
alone. Each utterance becomes one transcript segment; the dataset has no times, so times come from
word counts (0.4 s a word, 0.5 s between utterances).

Scoring, summed over the conversations (micro-averaged):

- risk types: a conversation's set of flagged types against the gold set (the issue's target);
  `quotes own` is the share of flags whose quote lies inside one client utterance.
- denials: the set of denied types; `flagged denials` counts gold denials (type not flagged in the
  gold) that the engine flagged anyway.
- action items: an item is located by its evidence times (else by its text); it can match a gold item
  when one of its utterances is within one utterance of the gold item's and both are follow-ups or
  neither is; items and gold are paired one to one by a maximum matching.
- strategies: the set of strategy keys (the gold README's table).
- topics: Dice over content words >= 0.3 (informational; topics are free text).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from bench.notes.match import content
from therapybridge import notes_engine
from therapybridge.document import ExtractedNotes, Segment, Speaker
from therapybridge.notes_engine import Provider
from therapybridge.settings import get_settings

REPO = Path(__file__).resolve().parents[1]
DEFAULT_GOLD = REPO / "bench" / "gold" / "annomi"
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "transcripts" / "annomi-dev.jsonl"
WORD_S = 0.4
GAP_S = 0.5
ROLE_SPEAKER = {"therapist": "SPEAKER_00", "client": "SPEAKER_01"}
SPEAKERS = [Speaker(label="SPEAKER_00", role="therapist"), Speaker(label="SPEAKER_01", role="client")]
_NOTE = re.compile(r"\[[^\]]*\]")  # transcriber notes such as [chuckles]


# --------------------------------------------------------------------------------------------------
# Conversations as transcripts
# --------------------------------------------------------------------------------------------------


@dataclass
class Conversation:
    id: str
    segments: list[Segment]
    index: list[int]  # the dataset's utterance index of each segment
    roles: list[str]


def load_conversations(path: Path) -> dict[str, dict]:
    with path.open() as f:
        return {row["id"]: row for row in map(json.loads, f)}


def to_transcript(row: dict) -> Conversation:
    """Each utterance one segment, timed from its word count (the dataset has no times)."""
    segs: list[Segment] = []
    index: list[int] = []
    roles: list[str] = []
    t = 0.0
    for u in row["utterances"]:
        text = " ".join(_NOTE.sub(" ", u["text"]).split())
        if not text:
            continue
        dur = max(1, len(text.split())) * WORD_S
        segs.append(
            Segment(
                start=round(t, 2), end=round(t + dur, 2), speaker=ROLE_SPEAKER[u["role"]], role=u["role"], text=text
            )
        )
        index.append(u["index"])
        roles.append(u["role"])
        t += dur + GAP_S
    return Conversation(row["id"], segs, index, roles)


def utterances_in(conv: Conversation, start: float, end: float) -> list[int]:
    """Dataset utterance indices whose segment overlaps [start, end] (or the nearest one)."""
    hits = [conv.index[i] for i, s in enumerate(conv.segments) if s.start <= end and s.end >= start]
    if hits:
        return hits
    near = min(range(len(conv.segments)), key=lambda i: abs(conv.segments[i].start - start))
    return [conv.index[near]]


def locate_text(conv: Conversation, text: str) -> list[int]:
    """Where a note item without evidence came from: the utterance most like its text."""
    if not text.strip():
        return []
    best = max(range(len(conv.segments)), key=lambda i: fuzz.partial_ratio(text.lower(), conv.segments[i].text.lower()))
    return [conv.index[best]]


# --------------------------------------------------------------------------------------------------
# Mapping engine output to the gold's vocabulary
# --------------------------------------------------------------------------------------------------

# For engines whose strategies carry no `key`: the gold key from words in the strategy's name.
_NAME_KEYS: list[tuple[str, str]] = [
    ("reflect", "reflective_listening"),
    ("affirm", "affirmation"),
    ("summar", "summary"),
    ("permission", "asking_permission"),
    ("feedback", "screening_feedback"),
    ("pros and cons", "decisional_balance"),
    ("decisional", "decisional_balance"),
    ("rating", "scaling_question"),
    ("scal", "scaling_question"),
    ("values", "exploring_values_goals"),
    ("plan", "change_planning"),
    ("menu", "menu_of_options"),
    ("relapse", "relapse_prevention"),
    ("trigger", "relapse_prevention"),
    ("harm reduction", "harm_reduction"),
    ("diary", "self_monitoring"),
    ("log", "self_monitoring"),
    ("monitor", "self_monitoring"),
    ("breath", "breathing_relaxation"),
    ("relax", "breathing_relaxation"),
    ("ground", "grounding_mindfulness"),
    ("mindful", "grounding_mindfulness"),
    ("thought record", "cognitive_restructuring"),
    ("thinking", "cognitive_restructuring"),
    ("restructur", "cognitive_restructuring"),
    ("activation", "behavioral_activation"),
    ("activity", "behavioral_activation"),
    ("exposure", "exposure"),
    ("sleep", "sleep_hygiene"),
    ("problem solving", "problem_solving"),
    ("assertive", "assertive_communication"),
    ("i statement", "assertive_communication"),
    ("safety plan", "safety_planning"),
    ("psychoeducation", "information_advice"),
]


def strategy_key(strategy: object) -> str | None:
    key = getattr(strategy, "key", "") or ""
    if key:
        return key
    name = str(getattr(strategy, "name", "")).lower()
    return next((k for word, k in _NAME_KEYS if word in name), None)


def evidence_utterances(conv: Conversation, item: object, text: str) -> list[int]:
    ev = getattr(item, "evidence", None) or []
    out: list[int] = []
    for e in ev:
        out += utterances_in(conv, e.start, e.end)
    return out or locate_text(conv, text)


# --------------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------------


@dataclass
class Count:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Count) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def set_count(pred: set[str], gold: set[str]) -> Count:
    return Count(len(pred & gold), len(pred - gold), len(gold - pred))


@dataclass
class Score:
    id: str
    fields: dict[str, Count] = field(default_factory=dict)
    quotes_total: int = 0
    quotes_own: int = 0
    flagged_denials: int = 0
    gold_denials: int = 0
    errors: list[str] = field(default_factory=list)  # what went wrong, for --per-file


FIELDS = ("risk types", "denials", "action items", "strategies", "topics")


def _match_items(pred: list[tuple[list[int], bool]], gold: list[tuple[list[int], bool]]) -> Count:
    """Maximum one-to-one matching (augmenting paths), so the order of the items cannot steal a match; a
    follow-up (the bool) only pairs with a follow-up."""
    near = [
        [g for g, (gutts, gf) in enumerate(gold) if gf == pf and any(abs(a - b) <= 1 for a in utts for b in gutts)]
        for utts, pf in pred
    ]
    owner: dict[int, int] = {}

    def claim(p: int, seen: set[int]) -> bool:
        for g in near[p]:
            if g not in seen:
                seen.add(g)
                if g not in owner or claim(owner[g], seen):
                    owner[g] = p
                    return True
        return False

    tp = sum(claim(p, set()) for p in range(len(pred)))
    return Count(tp, len(pred) - tp, len(gold) - tp)


def _topic_count(pred: list[str], gold: list[str]) -> Count:
    used: set[int] = set()
    tp = 0
    for p in pred:
        cp = content(p)
        for g, gt in enumerate(gold):
            cg = content(gt)
            if g not in used and cp and cg and 2 * len(cp & cg) / (len(cp) + len(cg)) >= 0.3:
                used.add(g)
                tp += 1
                break
    return Count(tp, len(pred) - tp, len(gold) - tp)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def score(conv: Conversation, notes: ExtractedNotes, gold: dict) -> Score:
    sc = Score(conv.id)
    pred_types = {f.type for f in notes.risk_flags}
    gold_types = {f["type"] for f in gold["risk_flags"]}
    sc.fields["risk types"] = set_count(pred_types, gold_types)
    for t in sorted(pred_types - gold_types):
        q = next(f.quote for f in notes.risk_flags if f.type == t)
        sc.errors.append(f"false {t}: {q[:90]!r}")
    for t in sorted(gold_types - pred_types):
        q = next(f["quote"] for f in gold["risk_flags"] if f["type"] == t)
        sc.errors.append(f"missed {t}: {q[:90]!r}")
    client_text = [_norm(s.text) for s, r in zip(conv.segments, conv.roles, strict=True) if r == "client"]
    for f in notes.risk_flags:
        sc.quotes_total += 1
        q = _norm(f.quote)
        sc.quotes_own += any(q and q in t for t in client_text)
    denied = {d["type"] for d in gold["denials"]} - gold_types
    sc.gold_denials = len(denied)
    sc.flagged_denials = len(denied & pred_types)
    sc.fields["denials"] = set_count({d.type for d in notes.documented_denials}, {d["type"] for d in gold["denials"]})
    pred_items = [(evidence_utterances(conv, a, a.task), a.category == "follow-up") for a in notes.action_items]
    gold_items = [(g["utterances"], g["category"] == "follow-up") for g in gold["action_items"]]
    sc.fields["action items"] = _match_items(pred_items, gold_items)
    keys = {k for k in (strategy_key(s) for s in notes.strategies) if k}
    gold_keys = {s["key"] for s in gold["strategies"]}
    sc.fields["strategies"] = set_count(keys, gold_keys)
    for k in sorted(keys - gold_keys):
        sc.errors.append(f"false strategy {k}")
    for k in sorted(gold_keys - keys):
        sc.errors.append(f"missed strategy {k}")
    sc.fields["topics"] = _topic_count(notes.key_topics, gold["topics"])
    return sc


# --------------------------------------------------------------------------------------------------
# Running the engine
# --------------------------------------------------------------------------------------------------


def run_engine(conv: Conversation, provider: Provider) -> ExtractedNotes:
    cfg = notes_engine.notes_config(get_settings(), provider)
    return asyncio.run(notes_engine.extract(conv.segments, SPEAKERS, cfg))


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def print_table(scores: list[Score], title: str) -> dict[str, Count]:
    totals = {f: Count() for f in FIELDS}
    for s in scores:
        for f in FIELDS:
            totals[f].add(s.fields[f])
    print(f"\n{title} ({len(scores)} conversations)\n")
    print("| field | precision | recall | tp | fp | fn |")
    print("|---|---|---|---|---|---|")
    for f, c in totals.items():
        print(f"| {f} | {_fmt(c.precision)} | {_fmt(c.recall)} | {c.tp} | {c.fp} | {c.fn} |")
    q_all = sum(s.quotes_total for s in scores)
    q_own = sum(s.quotes_own for s in scores)
    fd = sum(s.flagged_denials for s in scores)
    gd = sum(s.gold_denials for s in scores)
    print(f"\nflag quotes inside one client utterance: {q_own}/{q_all}; flagged denials: {fd}/{gd}")
    return totals


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--provider", choices=("local", "openai"), default="local")
    ap.add_argument("--per-file", action="store_true", help="print each conversation's errors")
    ap.add_argument("--summaries", type=int, default=0, help="print the first N client summaries for review")
    ap.add_argument("--limit", type=int, default=0, help="score only the first N conversations (a slow provider)")
    args = ap.parse_args(argv)
    rows = load_conversations(args.corpus)
    golds = sorted(args.gold.glob("*.json"), key=lambda p: int(p.stem.split("-")[-1]))
    if not golds:
        print(f"no gold files in {args.gold}", file=sys.stderr)
        return 2
    if args.limit > 0:
        golds = golds[: args.limit]
    scores: list[Score] = []
    outcomes: Counter[str] = Counter()  # which engine wrote each conversation's notes
    shown = 0
    started = time.monotonic()
    for path in golds:
        gold = json.loads(path.read_text())
        conv = to_transcript(rows[gold["id"]])
        notes = run_engine(conv, args.provider)
        outcomes[outcome(notes)] += 1
        sc = score(conv, notes, gold)
        scores.append(sc)
        if args.per_file and sc.errors:
            print(f"{sc.id}: " + "; ".join(sc.errors))
        if shown < args.summaries:
            shown += 1
            print(f"\n--- {conv.id} client summary ---\n{notes.patient_summary}")
    print_table(scores, f"bench.notes_real, provider {args.provider}")
    took = time.monotonic() - started
    print(f"notes by: {dict(outcomes)}; {took:.0f} s, {took / max(1, len(scores)):.1f} s a conversation")
    return 0


def outcome(notes: ExtractedNotes) -> str:
    """The engine that wrote the notes, and for a fallback why (provider messages carry no text)."""
    msg = notes.provider_message or ""
    if notes.provider == "openai":
        return "model" + (", parts merged" if "parts merged" in msg else "")
    if "unavailable:" in msg:
        return "local fallback: " + msg.split("unavailable:", 1)[1].split(";", 1)[0].strip()
    return "local"


if __name__ == "__main__":
    raise SystemExit(main())
