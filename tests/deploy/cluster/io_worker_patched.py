"""The io worker of a release with a changed workflow, for the rolling-restart test: SessionWorkflow plus
one new step (a timer after the notes, standing in for any new activity or timer), guarded with
`workflow.patched` as docs/ARCHITECTURE.md ("Changing the workflow") asks. Sessions that ran part of
their history on the old code replay it here and take the new step only from where this worker took
over; histories recorded without the patch replay unchanged.

    python -m tests.deploy.cluster.io_worker_patched     # otherwise exactly `python -m therapybridge.worker_io`
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import timedelta

from temporalio import workflow
from temporalio.worker import Worker

from therapybridge.workflows.session import SessionWorkflow  # imported in the sandbox, like the original

with workflow.unsafe.imports_passed_through():
    from therapybridge import messages as m

PATCH = "rolling-restart-new-step"


@workflow.defn(name="SessionWorkflow")
class PatchedSessionWorkflow(SessionWorkflow):
    @workflow.run
    async def run(self, inp: m.SessionInput, config: m.WorkflowConfig | None = None) -> str:
        return await super().run(inp, config)

    async def _pipeline(self, inp: m.SessionInput, save: m.SaveRequest) -> None:
        await super()._pipeline(inp, save)
        if workflow.patched(PATCH):
            await workflow.sleep(timedelta(seconds=1))


def main() -> None:
    """With ROLLING_RESTART_GATE set, everything up to polling is done first (imports, database,
    connection: the slow part of a start), then `release ready` is logged and the worker waits for that
    file to exist before it polls; the test opens the gate when the handover should happen."""
    import therapybridge.worker_io.__main__ as worker_io

    gate = os.environ.get("ROLLING_RESTART_GATE")
    run = worker_io.run_until_signal

    async def gated(worker: Worker, name: str) -> None:
        if gate:
            logging.getLogger("therapybridge.workers").info("release ready")
            while not os.path.exists(gate):
                await asyncio.sleep(0.1)
        await run(worker, name)

    worker_io.SessionWorkflow = PatchedSessionWorkflow  # type: ignore[misc]
    worker_io.run_until_signal = gated  # type: ignore[assignment]
    asyncio.run(worker_io.main())


if __name__ == "__main__":
    main()
