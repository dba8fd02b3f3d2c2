"""Scoring one file's notes against its expected ones (per file and overall).

- risk recall: an expected flag counts as found when a produced flag of the same type has a quote that
  overlaps the expected client sentence (token-set similarity >= 60 on normalised text, or one quote
  contains the other) — ASR never gives the exact sentence back.
- false flags: produced flags that match no expected flag of their type.
- denials flagged: expected `negated_risk_quotes` that some produced flag quotes (any type).
- strategy recall / action-item recall: an expected item (strategy name, action task) counts as found
  when some produced item (name, task) reaches a Dice coefficient >= 0.5 over content words (lower
  case, number words unified, function words dropped, crude suffix stripping); each produced item
  matches at most one expected item (greedy, best pairs first). Produced context/details are not used.
- status: of the matched strategies, how many have the expected introduced/practiced/reviewed status.

The same functions back tests/quality/test_notes_corpus.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.notes.match import greedy_match, quote_match
from therapybridge.document import ExtractedNotes

STRATEGY_THRESHOLD = 0.5
ACTION_THRESHOLD = 0.5


@dataclass
class Score:
    file: str
    risk_expected: int = 0
    risk_found: int = 0
    false_flags: int = 0
    denials: int = 0
    denials_flagged: int = 0
    strategies_expected: int = 0
    strategies_found: int = 0
    actions_expected: int = 0
    actions_found: int = 0
    status_correct: int = 0  # matched strategies whose status (introduced/practiced/reviewed) is right
    missed: list[str] = field(default_factory=list)  # descriptions for debugging, not printed by default


def score_notes(file_id: str, notes: ExtractedNotes, expected: dict) -> Score:
    s = Score(file=file_id)
    exp_flags = expected.get("risk_flags", [])
    s.risk_expected = len(exp_flags)
    used: set[int] = set()
    for ef in exp_flags:
        hit = [i for i, f in enumerate(notes.risk_flags) if f.type == ef["type"] and quote_match(f.quote, ef["quote"])]
        if hit:
            s.risk_found += 1
            used.update(hit)
        else:
            s.missed.append(f"risk {ef['type']}")
    s.false_flags = sum(1 for i in range(len(notes.risk_flags)) if i not in used)
    denials = expected.get("negated_risk_quotes", [])
    s.denials = len(denials)
    s.denials_flagged = sum(1 for d in denials if any(quote_match(f.quote, d) for f in notes.risk_flags))

    exp_strats = [x["name"] for x in expected.get("strategies", [])]
    s.strategies_expected = len(exp_strats)
    s.strategies_found, matched = greedy_match(exp_strats, [x.name for x in notes.strategies], STRATEGY_THRESHOLD)
    status = {x.name: x.status for x in notes.strategies}
    exp_status = {x["name"]: x.get("status") for x in expected.get("strategies", [])}
    s.status_correct = sum(1 for e, p in matched if exp_status.get(e) == status.get(p))
    s.missed += [f"strategy: {e}" for e in exp_strats if e not in {m[0] for m in matched}]
    exp_actions = [x["task"] for x in expected.get("action_items", [])]
    s.actions_expected = len(exp_actions)
    s.actions_found, matched = greedy_match(exp_actions, [x.task for x in notes.action_items], ACTION_THRESHOLD)
    s.missed += [f"action: {e}" for e in exp_actions if e not in {m[0] for m in matched}]
    return s


_SUM = (
    "risk_expected",
    "risk_found",
    "false_flags",
    "denials",
    "denials_flagged",
    "strategies_expected",
    "strategies_found",
    "actions_expected",
    "actions_found",
    "status_correct",
)


def total(scores: list[Score]) -> Score:
    t = Score(file="overall")
    for s in scores:
        for k in _SUM:
            setattr(t, k, getattr(t, k) + getattr(s, k))
    return t
