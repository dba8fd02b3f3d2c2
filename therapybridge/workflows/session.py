"""SessionWorkflow: one execution per session, nothing but orchestration.

validate → preprocess → [transcribe windows ‖ diarize] → merge → notes → save.
Activities are called by name so this module imports no model or database code; payloads are blob
references and counts (see therapybridge.messages).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():
    from therapybridge import messages as m
    from therapybridge import search_attributes as sa

T = TypeVar("T")

DIARIZATION_UNAVAILABLE = "speaker diarization unavailable"


@workflow.defn(name="SessionWorkflow")
class SessionWorkflow:
    def __init__(self) -> None:
        self._p = m.Progress(session_id="", status="queued", progress=0, message="queued")
        self._stage_started = 0.0
        self._windows_seconds: list[float] = []
        self._windows_finished: set[int] = set()
        self._diarized = False
        self._visible = False  # publish the search attributes (workflow.patched: see run)
        self._stage = sa.VALIDATE
        self._published: tuple[str, str] | None = None

    # ------------------------------------------------------------------ queries
    @workflow.query
    def progress(self) -> m.Progress:
        return self._p

    # ------------------------------------------------------------------ run
    @workflow.run
    async def run(self, inp: m.SessionInput, config: m.WorkflowConfig | None = None) -> str:
        self._config = config or m.WorkflowConfig()
        # Upserting search attributes is a command: histories recorded before it must replay without.
        self._visible = workflow.patched(sa.PATCH)
        self._p.session_id = inp.session_id
        self._p.started_at = workflow.now().isoformat()
        self._p.updated_at = self._p.started_at
        t0 = workflow.time()
        save = m.SaveRequest(session=inp, status="failed")
        try:
            await self._pipeline(inp, save)
            save.timings["total_s"] = round(workflow.time() - t0, 3)
            self._set("saving", m.SAVE_START, "saving the session")
            await self._io(m.SAVE, save, timeout=timedelta(minutes=5))
            self._record("save", 0.0)
            # The gateway words it the same way from the saved document (api/live.py).
            unavailable = save.diarization == "unavailable"
            self._set("processed", m.DONE, f"processed; {DIARIZATION_UNAVAILABLE}" if unavailable else "processed")
            return "processed"
        except (asyncio.CancelledError, CancelledError):
            await self._cancelled(save, t0)
            raise
        except ActivityError as err:
            if isinstance(err.cause, CancelledError):  # cancellation that surfaced through an activity
                await self._cancelled(save, t0)
                raise
            message = _root_message(err)
            self._p.error = message
            self._set("failed", m.DONE, message)
            save.status, save.error = "failed", message
            await self._finish(save, t0)
            # Non-retryable: a workflow retry would repeat the same activity failures.
            raise ApplicationError(message, type="SessionFailed", non_retryable=True) from err

    async def _cancelled(self, save: m.SaveRequest, t0: float) -> None:
        self._set("cancelled", m.DONE, "cancelled")
        save.status, save.error = "cancelled", "cancelled by request"
        await self._finish(save, t0)

    async def _pipeline(self, inp: m.SessionInput, save: m.SaveRequest) -> None:
        self._set("queued", 0, "checking the upload")
        v: m.ValidateResult = await self._io(m.VALIDATE, inp, m.ValidateResult, timeout=timedelta(minutes=10))
        save.duration_seconds = v.duration_seconds
        self._record("validate")

        self._set("preprocessing", m.PREPROCESS_START, "converting and normalising audio")
        pre: m.PreprocessResult = await self._io(m.PREPROCESS, inp, m.PreprocessResult, timeout=timedelta(minutes=60))
        self._record("preprocess")
        _note_model(save, "vad", pre.vad)

        self._p.windows_total = len(pre.windows)
        self._windows_seconds = [e - s for s, e in pre.windows]
        self._p.audio_seconds_total = round(sum(self._windows_seconds), 3)
        self._p.transcribe_started_at = workflow.now().isoformat()
        self._set("transcribing", m.PARALLEL_START, "transcribing and identifying speakers")
        parallel_t0 = workflow.time()
        diarize_task = asyncio.ensure_future(self._diarize(inp, pre))
        window_tasks = [
            asyncio.ensure_future(self._transcribe_window(inp, pre, i, s, e)) for i, (s, e) in enumerate(pre.windows)
        ]
        try:
            windows: list[m.WindowResult] = await asyncio.gather(*window_tasks)
        except BaseException:
            for t in [*window_tasks, diarize_task]:
                t.cancel()
            # Wait until the gpu activities have really stopped (WAIT_CANCELLATION_COMPLETED): the
            # final save's clean-up must not run while one of them can still write a blob.
            await asyncio.gather(*window_tasks, diarize_task, return_exceptions=True)
            raise
        save.timings["transcribe_s"] = round(workflow.time() - parallel_t0, 3)
        _note_model(save, "asr", *(w.model for w in sorted(windows, key=lambda w: w.index)))
        if not self._diarized:
            self._set("diarizing", self._p.progress, "identifying speakers")
        diar = await diarize_task
        save.diarization = "ok" if diar is not None else "unavailable"
        _note_model(save, "diarizer", diar.model if diar else None)
        save.timings["diarize_s"] = round(diar.seconds, 3) if diar else 0.0
        self._record_parallel(workflow.time() - parallel_t0)

        self._set("merging", m.MERGE_START, "attributing words to speakers")
        merged: m.MergeResult = await self._io(
            m.MERGE,
            m.MergeRequest(
                session_id=inp.session_id,
                window_refs=[w.ref for w in sorted(windows, key=lambda w: w.index)],
                diarization_ref=diar.ref if diar else None,
                therapist_id=inp.therapist_id,
            ),
            m.MergeResult,
            timeout=timedelta(minutes=10),
        )
        save.merged_ref = merged.ref
        self._record("merge")

        self._set("extracting_notes", m.NOTES_START, "writing notes and checking for risk")
        notes: m.NotesResult = await self._io(
            m.NOTES,
            m.NotesRequest(session_id=inp.session_id, merged_ref=merged.ref),
            m.NotesResult,
            timeout=timedelta(minutes=15),
        )
        save.notes_ref = notes.ref
        _note_model(save, "notes", notes.model)
        self._record("notes")
        save.timings.update({f"{k}_s": v for k, v in self._p.stage_timings.items() if f"{k}_s" not in save.timings})
        save.status = "processed"

    # ------------------------------------------------------------------ stages
    async def _transcribe_window(
        self, inp: m.SessionInput, pre: m.PreprocessResult, index: int, start: float, end: float
    ) -> m.WindowResult:
        result: m.WindowResult = await workflow.execute_activity(
            m.TRANSCRIBE_WINDOW,
            m.WindowRequest(inp.session_id, pre.audio_ref, pre.vad_ref, index, start, end),
            task_queue=self._config.gpu_task_queue,
            result_type=m.WindowResult,
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=self._heartbeat_timeout(),
            retry_policy=self._retry(),
            cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        self._windows_finished.add(index)
        self._p.windows_done = len(self._windows_finished)
        self._p.audio_seconds_done = round(sum(self._windows_seconds[i] for i in self._windows_finished), 3)
        self._update_parallel_progress()
        return result

    async def _diarize(self, inp: m.SessionInput, pre: m.PreprocessResult) -> m.DiarizeResult | None:
        """Diarization failing after its retries is not fatal: speakers become `Unknown`."""
        try:
            result: m.DiarizeResult = await workflow.execute_activity(
                m.DIARIZE,
                m.DiarizeRequest(
                    inp.session_id,
                    pre.audio_ref,
                    pre.vad_ref,
                    inp.num_speakers,
                    inp.min_speakers,
                    inp.max_speakers,
                ),
                task_queue=self._config.gpu_task_queue,
                result_type=m.DiarizeResult,
                start_to_close_timeout=timedelta(minutes=60),
                heartbeat_timeout=self._heartbeat_timeout(),
                retry_policy=self._retry(),
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
        except ActivityError as err:
            if isinstance(err.cause, CancelledError):
                raise
            workflow.logger.warning("diarization unavailable: %s", type(err.cause).__name__)
            result = None
        self._diarized = True
        self._update_parallel_progress()
        return result

    async def _finish(self, save: m.SaveRequest, t0: float) -> None:
        """Record a failed or cancelled outcome; never let this bookkeeping hide the real error."""
        save.timings["total_s"] = round(workflow.time() - t0, 3)
        try:
            await self._io(m.SAVE, save, timeout=timedelta(minutes=5))
        except ActivityError:
            workflow.logger.error("could not record the session outcome")

    # ------------------------------------------------------------------ helpers
    async def _io(self, name: str, arg: Any, result_type: type[T] | None = None, *, timeout: timedelta) -> Any:
        return await workflow.execute_activity(
            name,
            arg,
            task_queue=self._config.io_task_queue,
            result_type=result_type,
            start_to_close_timeout=timeout,
            heartbeat_timeout=self._heartbeat_timeout(),
            retry_policy=self._retry(),
        )

    def _retry(self) -> RetryPolicy:
        c = self._config
        return RetryPolicy(
            initial_interval=timedelta(seconds=c.retry_initial_s),
            backoff_coefficient=c.retry_backoff,
            maximum_interval=timedelta(seconds=c.retry_max_interval_s),
            maximum_attempts=c.retry_max_attempts,
            non_retryable_error_types=m.NON_RETRYABLE,
        )

    def _heartbeat_timeout(self) -> timedelta:
        return timedelta(seconds=self._config.heartbeat_timeout_s)

    def _set(self, status: str, percent: int, message: str) -> None:
        self._p.status = status
        self._p.progress = max(self._p.progress, percent)  # never backwards
        self._p.message = message
        self._p.updated_at = workflow.now().isoformat()
        self._stage_started = self._stage_started or workflow.time()
        self._publish()

    def _record(self, stage: str, seconds: float | None = None) -> None:
        now = workflow.time()
        self._p.stage_timings[stage] = round(seconds if seconds is not None else now - self._stage_started, 3)
        self._stage_started = now

    def _record_parallel(self, seconds: float) -> None:
        self._p.stage_timings["transcribe_diarize"] = round(seconds, 3)
        self._stage_started = workflow.time()

    def _update_parallel_progress(self) -> None:
        total = sum(self._windows_seconds) or 1.0
        done = sum(self._windows_seconds[i] for i in self._windows_finished) / total
        share = m.TRANSCRIBE_SHARE * done + (1 - m.TRANSCRIBE_SHARE) * (1.0 if self._diarized else 0.0)
        percent = m.PARALLEL_START + int((m.PARALLEL_END - m.PARALLEL_START) * share)
        self._p.progress = max(self._p.progress, min(percent, m.PARALLEL_END))
        self._p.updated_at = workflow.now().isoformat()
        if done >= 1.0 and not self._diarized:
            self._p.status, self._p.message = "diarizing", "identifying speakers"
        self._publish()

    def _publish(self) -> None:
        """Where the session is, for the Temporal UI: the SessionStage/SessionStatus search attributes
        (only when they change) and the current details line. Words and counts only, no session data."""
        self._stage = sa.STAGE_OF_STATUS.get(self._p.status, self._stage)  # failed/cancelled keep theirs
        status = sa.status_of(self._p.status)
        workflow.set_current_details(self._details(status))  # not a command: needs no patch
        if self._visible and (self._stage, status) != self._published:
            self._published = (self._stage, status)
            workflow.upsert_search_attributes(
                [sa.SESSION_STAGE.value_set(self._stage), sa.SESSION_STATUS.value_set(status)]
            )

    def _details(self, status: str) -> str:
        p = self._p
        if status != sa.PROCESSING:
            return f"{status} (stage {self._stage})"
        line = f"{self._stage}: {p.progress}%"
        if p.windows_total:
            speakers = "done" if self._diarized else "running"
            line += f", windows {p.windows_done}/{p.windows_total} transcribed, speaker identification {speakers}"
        return line


def _note_model(save: m.SaveRequest, stage: str, *infos: m.ModelInfo | None) -> None:
    """Record the model(s) a stage used. Results from workers of an older version carry none. Windows
    done by workers with different models (a cluster mid-upgrade) are all named, in window order."""
    distinct: list[m.ModelInfo] = []
    for info in infos:
        if info is not None and info not in distinct:
            distinct.append(info)
    if distinct:
        save.models[stage] = m.ModelInfo(" + ".join(i.name for i in distinct), " + ".join(i.version for i in distinct))


def _root_message(err: BaseException) -> str:
    """The innermost failure's message: what the user needs to read."""
    cause: BaseException | None = err
    while cause is not None and cause.__cause__ is not None:
        cause = cause.__cause__
    if isinstance(err, ActivityError) and isinstance(err.cause, ApplicationError):
        return err.cause.message
    return str(cause) if cause is not None else "processing failed"
