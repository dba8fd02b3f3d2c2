"""Replay: SessionWorkflow must still replay the histories of sessions recorded with earlier versions of
it, or a deploy would break every session running at that moment (Temporal's determinism rule).

The histories in tests/fixtures/histories/ were recorded with `python -m tests.unit.test_workflow_unit` (its
`record_histories`). Keep the old ones when the workflow changes: a change that alters the order or kind
of commands must be guarded with `workflow.patched` (docs/ARCHITECTURE.md, "Changing the workflow"), and
then the old histories still replay."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from therapybridge import messages as m
from therapybridge import search_attributes as sa
from therapybridge.workflows.session import SessionWorkflow

HISTORIES = sorted((Path(__file__).parents[1] / "fixtures" / "histories").glob("*.json"))


def _history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text())


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_histories_replay_on_todays_workflow(path: Path) -> None:
    await Replayer(workflows=[SessionWorkflow]).replay_workflow(_history(path))


def _publishes_search_attributes(path: Path) -> bool:
    upserts = [
        e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        for e in _history(path).events
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    ]
    return any(sa.SESSION_STAGE.name in fields for fields in upserts)


def test_histories_from_before_and_after_the_search_attributes_patch_are_both_kept() -> None:
    """Both branches of `workflow.patched(sa.PATCH)` are replayed: sessions started before it and after."""
    after = [p.stem for p in HISTORIES if _publishes_search_attributes(p)]
    assert after and len(after) < len(HISTORIES), after


@workflow.defn(name="SessionWorkflow")
class _ReorderedWorkflow:
    """What an unguarded change looks like: the same workflow type, its first activity different."""

    @workflow.run
    async def run(self, inp: m.SessionInput, config: dict | None = None) -> str:
        await workflow.execute_activity(m.PREPROCESS, inp, start_to_close_timeout=timedelta(minutes=1))
        return "processed"


async def test_the_replay_check_catches_a_non_deterministic_change() -> None:
    assert HISTORIES, "no recorded histories"
    with pytest.raises(workflow.NondeterminismError):
        await Replayer(workflows=[_ReorderedWorkflow]).replay_workflow(_history(HISTORIES[0]))
