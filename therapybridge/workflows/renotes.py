"""RenotesWorkflow: the notes and risk flags rebuilt from a clinician-corrected transcript.

stage the corrected transcript (a blob the notes activity reads) → notes (the pipeline's own
activity) → apply (the document's notes, and a new draft beside a signed note). One run per session
at a time (the gateway starts it with TERMINATE_EXISTING: the newest correction wins); the apply
step writes only while its version is still the newest, so a terminated or late run changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from therapybridge import messages as m


@workflow.defn(name=m.RENOTES_WORKFLOW)
class RenotesWorkflow:
    @workflow.run
    async def run(self, inp: m.RenotesInput, config: m.WorkflowConfig | None = None) -> str:
        c = config or m.WorkflowConfig()
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=c.retry_initial_s),
            backoff_coefficient=c.retry_backoff,
            maximum_interval=timedelta(seconds=c.retry_max_interval_s),
            maximum_attempts=c.retry_max_attempts,
            non_retryable_error_types=m.NON_RETRYABLE,
        )
        opts = {"task_queue": c.io_task_queue, "retry_policy": retry}
        staged = await workflow.execute_activity(
            m.STAGE_EDITED, inp, result_type=str, start_to_close_timeout=timedelta(minutes=2), **opts
        )
        if not staged:
            return "superseded"  # a newer correction (or a delete) came first
        outcome = m.RenotesOutcome(session_id=inp.session_id, version=inp.version, ok=True, staged_ref=staged)
        try:
            await workflow.execute_activity(
                m.NOTES,
                m.NotesRequest(session_id=inp.session_id, merged_ref=staged),
                result_type=m.NotesResult,
                start_to_close_timeout=timedelta(minutes=15),
                heartbeat_timeout=timedelta(seconds=c.heartbeat_timeout_s),
                **opts,
            )
        except ActivityError:
            outcome.ok = False
        await workflow.execute_activity(m.APPLY_RENOTES, outcome, start_to_close_timeout=timedelta(minutes=2), **opts)
        return "done" if outcome.ok else "failed"
