"""Local notes on the synthetic corpus's TRUTH text (exact turns, role = speaker): CI-speed quality floors.

Targets from the notes issue: every expected risk flag found, no documented denial flagged, at most one
false flag across the corpus; strategy recall >= 80 % and action-item recall >= 70 %. The scoring is
bench/notes/score.py's (documented there); `python -m bench.notes CORPUS --truth-text` prints the same table.
"""

from __future__ import annotations

import json

import pytest

from bench.notes.inputs import corpus_files, truth_inputs
from bench.notes.score import Score, score_notes, total
from tests.support.harness import CORPUS
from therapybridge.domain.notes import extract_notes


@pytest.fixture(scope="module")
def scores() -> list[Score]:
    files = corpus_files(CORPUS)
    assert files, f"no synthetic corpus scripts under {CORPUS} (set THERAPYBRIDGE_CORPUS)"
    out = []
    for path in files:
        script = json.loads(path.read_text())
        segs, speakers = truth_inputs(script)
        out.append(score_notes(path.stem, extract_notes(segs, speakers), script["expected"]))
    return out


def test_every_expected_risk_flag_is_found(scores: list[Score]) -> None:
    t = total(scores)
    assert t.risk_expected > 0
    assert t.risk_found == t.risk_expected, [s.missed for s in scores if s.risk_found < s.risk_expected]


def test_no_denial_is_flagged(scores: list[Score]) -> None:
    t = total(scores)
    assert t.denials > 0
    assert t.denials_flagged == 0, [s.file for s in scores if s.denials_flagged]


def test_at_most_one_false_flag(scores: list[Score]) -> None:
    assert total(scores).false_flags <= 1, {s.file: s.false_flags for s in scores if s.false_flags}


def test_strategy_and_action_recall_floors(scores: list[Score]) -> None:
    t = total(scores)
    assert t.strategies_found / t.strategies_expected >= 0.80
    assert t.actions_found / t.actions_expected >= 0.70
