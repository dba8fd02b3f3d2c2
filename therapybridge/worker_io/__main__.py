from __future__ import annotations

import asyncio

from temporalio.worker import Worker

from therapybridge import db
from therapybridge.activities.merge import merge_transcript
from therapybridge.activities.notes import notes
from therapybridge.activities.preprocess import preprocess
from therapybridge.activities.save import save
from therapybridge.activities.validate import validate_upload
from therapybridge.logs import setup_logging
from therapybridge.settings import get_settings
from therapybridge.temporal import connect
from therapybridge.workers import run_until_signal
from therapybridge.workflows import SessionWorkflow


async def main() -> None:
    settings = get_settings()
    setup_logging(settings, "worker_io")
    await db.init_db()
    client = await connect(settings)
    worker = Worker(
        client,
        task_queue=settings.io_task_queue,
        workflows=[SessionWorkflow],
        activities=[validate_upload, preprocess, merge_transcript, notes, save],
        max_concurrent_activities=8,
    )
    await run_until_signal(worker, "worker_io")


if __name__ == "__main__":
    asyncio.run(main())
