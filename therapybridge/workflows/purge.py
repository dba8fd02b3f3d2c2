"""PurgeWorkflow: run by a Temporal Schedule, removes artifacts of failed and cancelled sessions
older than ARTIFACT_TTL_HOURS (processed sessions lose their audio right after saving)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from therapybridge import messages as m


@workflow.defn(name="PurgeWorkflow")
class PurgeWorkflow:
    @workflow.run
    async def run(self, ttl_hours: float) -> int:
        return await workflow.execute_activity(
            m.PURGE,
            ttl_hours,
            result_type=int,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
