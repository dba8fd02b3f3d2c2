from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict

from temporalio.worker import (
    FixedSizeSlotSupplier,
    Worker,
    WorkerTuner,
)

from therapybridge import liveness
from therapybridge.activities.diarize import diarize
from therapybridge.activities.transcribe import transcribe_window
from therapybridge.logs import setup_logging
from therapybridge.settings import get_settings
from therapybridge.speech.asr.factory import asr_config, get_transcriber
from therapybridge.speech.diarization.factory import diarizer_config, get_diarizer
from therapybridge.temporal import connect
from therapybridge.worker_gpu.plan import apply_thread_plan, thread_plan
from therapybridge.worker_gpu.slots import ModelSlots
from therapybridge.workers import HEARTBEAT_THROTTLE, metrics_runtime, run_until_signal

log = logging.getLogger("therapybridge.worker_gpu")


async def main() -> None:
    settings = get_settings()
    setup_logging(settings, "worker_gpu")
    _liveness = liveness.start(settings.child_unresponsive_s)  # held here: a task nobody references can vanish
    plan = thread_plan(settings)
    apply_thread_plan(plan)
    log.info("thread plan", extra=asdict(plan))
    # Load models before polling so the first task does not pay for it; a broken model setting still
    # lets the worker start (its activities then fail with a clear, non-retryable error).
    for name, load in (
        ("asr", lambda: get_transcriber(asr_config(settings))),
        ("diarizer", lambda: get_diarizer(diarizer_config(settings))),
    ):
        try:
            await asyncio.to_thread(load)
        except Exception as exc:
            log.error("model failed to load", extra={"model": name, "error_type": type(exc).__name__})
    client = await connect(settings, runtime=metrics_runtime(settings))
    # `transcriptions` windows share the one model (CTranslate2 runs that many in parallel on one copy
    # of the weights): memory is bounded by the slots, never a second model.
    slots = plan.transcriptions + 1
    fixed = FixedSizeSlotSupplier(slots)
    worker = Worker(
        client,
        task_queue=settings.gpu_task_queue,
        activities=[transcribe_window, diarize],
        activity_executor=ThreadPoolExecutor(slots),
        tuner=WorkerTuner.create_composite(
            workflow_supplier=fixed,
            activity_supplier=ModelSlots(plan.transcriptions, plan.spare_diarization),
            local_activity_supplier=fixed,
            nexus_supplier=fixed,
        ),
        **HEARTBEAT_THROTTLE,
    )
    await run_until_signal(worker, "worker_gpu")


if __name__ == "__main__":
    asyncio.run(main())
