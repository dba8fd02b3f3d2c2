"""SessionWorkflow alone: the real workflow code on Temporal's own test environment, with every activity
replaced by a stand-in (temporalio/samples-python style). No database, blob store, models or worker
processes, so each path (success, failure, diarization unavailable, cancellation, progress queries)
is checked in about a second. The pipeline tests run the same workflow with the real activities."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.support.harness import temporal_cli
from therapybridge import messages as m
from therapybridge import search_attributes as sa
from therapybridge.workflows.session import DIARIZATION_UNAVAILABLE, SessionWorkflow

HISTORIES = Path(__file__).parents[1] / "fixtures" / "histories"
WINDOWS = [[0.0, 30.0], [30.0, 55.0], [55.0, 60.0]]
ASR = m.ModelInfo("faster-whisper base", "sha256:test")


@dataclass
class Stand:
    """What the stand-in activities do and what they saw."""

    fail: dict[str, ApplicationError] = field(default_factory=dict)  # activity name -> error it raises
    hold_window: asyncio.Event | None = None  # when set, window 0 waits (heartbeating) until cancelled
    window_started: asyncio.Event = field(default_factory=asyncio.Event)
    window_cancelled: bool = False
    saves: list[m.SaveRequest] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def activities(self) -> list[Any]:
        def check(name: str) -> None:
            self.calls.append(name)
            if name in self.fail:
                raise self.fail[name]

        @activity.defn(name=m.VALIDATE)
        async def validate(inp: m.SessionInput) -> m.ValidateResult:
            check(m.VALIDATE)
            return m.ValidateResult(duration_seconds=60.0, format_name="flac")

        @activity.defn(name=m.PREPROCESS)
        async def preprocess(inp: m.SessionInput) -> m.PreprocessResult:
            check(m.PREPROCESS)
            return m.PreprocessResult("audio.wav", "vad.json", 60.0, 50.0, WINDOWS, vad=m.ModelInfo("silero-vad", "v5"))

        @activity.defn(name=m.TRANSCRIBE_WINDOW)
        async def transcribe_window(req: m.WindowRequest) -> m.WindowResult:
            check(m.TRANSCRIBE_WINDOW)
            if req.index == 0 and self.hold_window is not None:
                self.window_started.set()
                try:
                    while not self.hold_window.is_set():
                        activity.heartbeat()
                        await asyncio.sleep(0.05)  # the heartbeat is how a cancellation reaches us
                except asyncio.CancelledError:
                    self.window_cancelled = True
                    raise
            return m.WindowResult(req.index, f"window-{req.index}.json", 10, "en", 0.1, model=ASR)

        @activity.defn(name=m.DIARIZE)
        async def diarize(req: m.DiarizeRequest) -> m.DiarizeResult:
            check(m.DIARIZE)
            return m.DiarizeResult("turns.json", 2, 0.1, model=m.ModelInfo("resemblyzer", "0.1.4"))

        @activity.defn(name=m.MERGE)
        async def merge(req: m.MergeRequest) -> m.MergeResult:
            check(m.MERGE)
            assert req.window_refs == [f"window-{i}.json" for i in range(len(WINDOWS))]  # window order
            return m.MergeResult("merged.json", 12, 2 if req.diarization_ref else 1, "en")

        @activity.defn(name=m.NOTES)
        async def notes(req: m.NotesRequest) -> m.NotesResult:
            check(m.NOTES)
            return m.NotesResult("notes.json", 0, "local", model=m.ModelInfo("local", "1"))

        @activity.defn(name=m.SAVE)
        async def save(req: m.SaveRequest) -> None:
            self.saves.append(req)

        return [validate, preprocess, transcribe_window, diarize, merge, notes, save]


CONFIG = {"retry_initial_s": 0.1, "retry_max_attempts": 1, "heartbeat_timeout_s": 5.0}  # fast failures


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_local(
        search_attributes=sa.KEYS,
        dev_server_existing_path=temporal_cli(),
        dev_server_startup_timeout=timedelta(seconds=180),
    ) as e:
        yield e


async def _start(client: Client, stand: Stand, queue: str) -> WorkflowHandle[Any, str]:
    sid = str(uuid.uuid4())
    inp = m.SessionInput(sid, f"uploads/{sid}", "session.flac", num_speakers=2, therapist_id="t1")
    config = m.WorkflowConfig(io_task_queue=queue, gpu_task_queue=queue, **CONFIG)
    return await client.start_workflow(SessionWorkflow.run, args=[inp, config], id=f"session-{sid}", task_queue=queue)


async def _run(
    env: WorkflowEnvironment, stand: Stand
) -> tuple[WorkflowHandle[Any, str], str | WorkflowFailureError, m.Progress]:
    """Run a session to its end; the final progress is queried while a worker can still answer."""
    queue = f"unit-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=[SessionWorkflow], activities=stand.activities()):
        handle = await _start(env.client, stand, queue)
        try:
            result: str | WorkflowFailureError = await handle.result()
        except WorkflowFailureError as err:
            result = err
        return handle, result, await handle.query(SessionWorkflow.progress)


pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_a_session_runs_every_stage_and_saves_once(env: WorkflowEnvironment) -> None:
    stand = Stand()
    _, result, progress = await _run(env, stand)
    assert result == "processed"
    assert stand.calls.count(m.TRANSCRIBE_WINDOW) == len(WINDOWS) and stand.calls.count(m.DIARIZE) == 1
    assert stand.calls[:2] == [m.VALIDATE, m.PREPROCESS] and stand.calls[-2:] == [m.MERGE, m.NOTES]
    [save] = stand.saves
    assert save.status == "processed" and save.diarization == "ok" and save.error is None
    assert (save.merged_ref, save.notes_ref, save.duration_seconds) == ("merged.json", "notes.json", 60.0)
    assert set(save.models) == {"vad", "asr", "diarizer", "notes"} and save.models["asr"] == ASR
    assert (progress.status, progress.progress, progress.windows_done) == ("processed", 100, len(WINDOWS))
    assert {"validate", "preprocess", "transcribe_diarize", "merge", "notes"} <= set(progress.stage_timings)


async def test_diarization_failing_leaves_speakers_unknown_but_the_session_processed(
    env: WorkflowEnvironment,
) -> None:
    stand = Stand(fail={m.DIARIZE: ApplicationError("encoder crashed", non_retryable=True)})
    _, result, progress = await _run(env, stand)
    assert result == "processed"
    [save] = stand.saves
    assert save.status == "processed" and save.diarization == "unavailable" and "diarizer" not in save.models
    assert progress.message == f"processed; {DIARIZATION_UNAVAILABLE}"  # what the clinician reads


@pytest.mark.parametrize("stage", [m.VALIDATE, m.PREPROCESS, m.TRANSCRIBE_WINDOW, m.MERGE, m.NOTES])
async def test_a_failing_stage_fails_the_session_with_its_message_and_records_it(
    env: WorkflowEnvironment, stage: str
) -> None:
    stand = Stand(fail={stage: ApplicationError("the upload is not audio", type=m.INVALID_AUDIO)})
    _, result, progress = await _run(env, stand)
    assert isinstance(result, WorkflowFailureError)
    assert isinstance(result.cause, ApplicationError) and result.cause.type == "SessionFailed"
    assert result.cause.message == "the upload is not audio" and result.cause.non_retryable
    [save] = stand.saves  # one outcome record, with the reason the clinician sees
    assert (save.status, save.error) == ("failed", "the upload is not audio")
    assert m.NOTES not in stand.calls[stand.calls.index(stage) + 1 :]
    assert (progress.status, progress.progress, progress.error) == ("failed", 100, "the upload is not audio")


async def test_progress_mid_transcription_and_cancellation_stop_the_gpu_work_before_the_outcome_is_saved(
    env: WorkflowEnvironment,
) -> None:
    stand = Stand(hold_window=asyncio.Event())
    queue = f"unit-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=[SessionWorkflow], activities=stand.activities()):
        handle = await _start(env.client, stand, queue)
        await asyncio.wait_for(stand.window_started.wait(), timeout=120)
        progress: m.Progress = await handle.query(SessionWorkflow.progress)
        assert progress.status in ("transcribing", "diarizing") and progress.windows_total == len(WINDOWS)
        assert m.PARALLEL_START <= progress.progress < m.PARALLEL_END
        await handle.cancel()
        with pytest.raises(WorkflowFailureError) as err:
            await handle.result()
    assert isinstance(err.value.cause, CancelledError)
    assert stand.window_cancelled  # WAIT_CANCELLATION_COMPLETED: the window stopped before the save ran
    [save] = stand.saves
    assert (save.status, save.error) == ("cancelled", "cancelled by request")
    assert m.MERGE not in stand.calls


# ------------------------------------------------------------------ what the Temporal UI shows


async def _published(handle: WorkflowHandle[Any, str]) -> list[tuple[str, str]]:
    """(SessionStage, SessionStatus) of every search-attribute upsert in the history, in order."""
    out = []
    for e in (await handle.fetch_history()).events:
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            if sa.SESSION_STAGE.name in fields:  # (the SDK's TemporalChangeVersion upsert has only its own)
                values = [json.loads(fields[k.name].data) for k in (sa.SESSION_STAGE, sa.SESSION_STATUS)]
                out.append((values[0], values[1]))
    return out


async def _details(handle: WorkflowHandle[Any, str]) -> str:
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return metadata.current_details


async def _final_attributes(handle: WorkflowHandle[Any, str]) -> tuple[str | None, str | None]:
    attrs = (await handle.describe()).typed_search_attributes
    return attrs.get(sa.SESSION_STAGE), attrs.get(sa.SESSION_STATUS)


async def test_stage_and_status_search_attributes_follow_the_session_to_done(env: WorkflowEnvironment) -> None:
    stand = Stand()
    queue = f"unit-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=[SessionWorkflow], activities=stand.activities()):
        handle = await _start(env.client, stand, queue)
        assert await handle.result() == "processed"
        details = await _details(handle)
    published = await _published(handle)
    # Diarization may finish after the windows (a `diarize` step) or before: both are right.
    stages = [stage for stage, _ in published if stage != sa.DIARIZE]
    assert stages == [sa.VALIDATE, sa.PREPROCESS, sa.TRANSCRIBE, sa.MERGE, sa.NOTES, sa.SAVE, sa.DONE]
    assert [status for _, status in published] == [sa.PROCESSING] * (len(published) - 1) + [sa.PROCESSED]
    assert len(published) == len(set(published))  # upserted only when they change, not per window
    assert {v for pair in published for v in pair} <= set(sa.STAGES) | set(sa.STATUSES)  # no session data
    assert await _final_attributes(handle) == (sa.DONE, sa.PROCESSED)
    assert details == "processed (stage done)"


@pytest.mark.parametrize(
    ("activity_name", "stage"),
    [(m.VALIDATE, sa.VALIDATE), (m.TRANSCRIBE_WINDOW, sa.TRANSCRIBE), (m.NOTES, sa.NOTES)],
)
async def test_a_failed_session_is_found_by_status_and_the_stage_it_failed_in(
    env: WorkflowEnvironment, activity_name: str, stage: str
) -> None:
    stand = Stand(fail={activity_name: ApplicationError("the upload is not audio", type=m.INVALID_AUDIO)})
    handle, result, _ = await _run(env, stand)
    assert isinstance(result, WorkflowFailureError)
    assert await _final_attributes(handle) == (stage, sa.FAILED)
    assert (await _published(handle))[-1] == (stage, sa.FAILED)


async def test_current_details_mid_transcription_then_cancelled_in_that_stage(env: WorkflowEnvironment) -> None:
    stand = Stand(hold_window=asyncio.Event())
    queue = f"unit-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=[SessionWorkflow], activities=stand.activities()):
        handle = await _start(env.client, stand, queue)
        await asyncio.wait_for(stand.window_started.wait(), timeout=120)
        # Window 0 is held, so the workflow stays in transcription whatever the other windows do.
        assert await _final_attributes(handle) == (sa.TRANSCRIBE, sa.PROCESSING)
        details = await _details(handle)
        assert details.startswith("transcribe: ") and f"/{len(WINDOWS)} transcribed" in details, details
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await handle.result()
    assert await _final_attributes(handle) == (sa.TRANSCRIBE, sa.CANCELLED)


async def record_histories(tag: str) -> None:
    """Write the histories tests/unit/test_workflow_replay.py replays:
    `python -m tests.unit.test_workflow_unit TAG` writes session-<path>-TAG.json (TAG: the patch id).
    Do it only for a deliberate, patched workflow change; the old files stay (docs/ARCHITECTURE.md,
    "Changing the workflow"), and none is overwritten."""
    stands = {
        "processed": Stand(),
        "diarization-unavailable": Stand(fail={m.DIARIZE: ApplicationError("encoder crashed", non_retryable=True)}),
        "notes-failed": Stand(fail={m.NOTES: ApplicationError("provider refused", type=m.PROVIDER_BAD_REQUEST)}),
    }
    async with await WorkflowEnvironment.start_local(
        search_attributes=sa.KEYS, dev_server_existing_path=temporal_cli()
    ) as env:
        for name, stand in stands.items():
            handle, _, _ = await _run(env, stand)
            history = await handle.fetch_history()
            HISTORIES.mkdir(parents=True, exist_ok=True)
            path = HISTORIES / f"session-{name}-{tag}.json"
            if path.exists():
                raise FileExistsError(f"{path} exists: keep it, and record under a new tag")
            path.write_text(json.dumps(history.to_json_dict(), indent=1) + "\n")


if __name__ == "__main__":
    import sys

    asyncio.run(record_histories(sys.argv[1]))
