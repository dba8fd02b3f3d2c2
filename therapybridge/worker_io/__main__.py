from __future__ import annotations

import asyncio

from temporalio.worker import Worker

from therapybridge import db, liveness
from therapybridge.activities.merge import merge_transcript
from therapybridge.activities.notes import notes
from therapybridge.activities.preprocess import preprocess
from therapybridge.activities.purge import purge_expired_artifacts
from therapybridge.activities.renotes import apply_renotes, stage_edited_transcript
from therapybridge.activities.save import save
from therapybridge.activities.validate import validate_upload
from therapybridge.logs import setup_logging
from therapybridge.settings import get_settings
from therapybridge.temporal import connect, ensure_purge_schedule, ensure_search_attributes
from therapybridge.workers import HEARTBEAT_THROTTLE, metrics_runtime, run_until_signal
from therapybridge.workflows import PurgeWorkflow, RenotesWorkflow, SessionWorkflow


async def main() -> None:
    settings = get_settings()
    setup_logging(settings, "worker_io")
    _liveness = liveness.start(settings.child_unresponsive_s)  # held here: a task nobody references can vanish
    await db.init_db()
    client = await connect(settings, runtime=metrics_runtime(settings))
    await ensure_purge_schedule(client, settings)
    # Before polling: SessionWorkflow upserts them, and an unknown one fails its workflow task.
    await ensure_search_attributes(client, settings.temporal_namespace)
    worker = Worker(
        client,
        task_queue=settings.io_task_queue,
        workflows=[SessionWorkflow, PurgeWorkflow, RenotesWorkflow],
        activities=[
            validate_upload,
            preprocess,
            merge_transcript,
            notes,
            save,
            purge_expired_artifacts,
            stage_edited_transcript,
            apply_renotes,
        ],
        max_concurrent_activities=8,
        **HEARTBEAT_THROTTLE,
    )
    await run_until_signal(worker, "worker_io")


if __name__ == "__main__":
    asyncio.run(main())
