from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from temporalio.worker import (
    CustomSlotSupplier,
    FixedSizeSlotSupplier,
    SlotMarkUsedContext,
    SlotPermit,
    SlotReleaseContext,
    SlotReserveContext,
    Worker,
    WorkerTuner,
)

from therapybridge import messages as m
from therapybridge.activities.diarize import diarize
from therapybridge.activities.transcribe import transcribe_window
from therapybridge.logs import setup_logging
from therapybridge.settings import Settings, get_settings
from therapybridge.speech.asr import AsrConfig, cpu_count, get_transcriber
from therapybridge.speech.diarizer import get_diarizer
from therapybridge.temporal import connect
from therapybridge.workers import HEARTBEAT_THROTTLE, run_until_signal

log = logging.getLogger("therapybridge.worker_gpu")


@dataclass(frozen=True)
class ThreadPlan:
    """How a gpu worker shares its cores: `transcriptions` windows at once, each on `asr_threads`
    CTranslate2 threads, plus one diarization on `torch_threads`."""

    transcriptions: int
    asr_threads: int
    torch_threads: int
    device: str
    spare_diarization: bool  # a diarization runs beside the transcriptions (else it takes one's place)


def thread_plan(settings: Settings) -> ThreadPlan:
    asr = AsrConfig.from_settings(settings)
    torch_threads = settings.diarizer_threads
    if torch_threads <= 0:
        # On CPU the diarizer runs beside the transcriptions, which already use every core: one
        # torch thread. torch's default (one per core) made it 3x slower there (spinning threads).
        torch_threads = 0 if asr.device == "cuda" else 1
    # On a GPU both models share the device and the cores stay free; on CPU only when the
    # transcriptions leave a core for it (e.g. one single-threaded transcription on two cores).
    spare = asr.device == "cuda" or asr.num_workers * asr.cpu_threads + max(1, torch_threads) <= cpu_count()
    return ThreadPlan(asr.num_workers, asr.cpu_threads, torch_threads, asr.device, spare)


def apply_thread_plan(plan: ThreadPlan) -> None:
    """Before any model loads: torch fixes its thread pool on first use."""
    if plan.torch_threads > 0:
        import torch

        torch.set_num_threads(plan.torch_threads)


class _Permit(SlotPermit):
    def __init__(self) -> None:
        self.kind = "pending"  # pending → counted | spare


class ModelSlots(CustomSlotSupplier):
    """Activity slots of a gpu worker: it polls for a task only when a transcription could start at
    once. A worker holding more windows than it can run makes them wait behind its own while other
    workers go idle (the tail of a session on several workers). A diarization either takes a
    transcription's place or, with `spare`, runs beside them (one at a time)."""

    def __init__(self, transcriptions: int, spare: bool) -> None:
        self.capacity = max(1, transcriptions)
        self.spare = spare
        self._lock = threading.Lock()  # the bridge may call mark/release from another thread
        self._pending = 0  # reserved for a poll, task type not known yet
        self._busy = 0  # running tasks that count against the capacity
        self._spare_busy = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None

    def _take(self) -> _Permit | None:
        with self._lock:
            if self._pending + self._busy >= self.capacity:
                if self._changed is not None:
                    self._changed.clear()
                return None
            self._pending += 1
            return _Permit()

    async def reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit:
        if self._loop is None:
            self._loop, self._changed = asyncio.get_running_loop(), asyncio.Event()
        while (permit := self._take()) is None:
            assert self._changed is not None
            await self._changed.wait()
        return permit

    def try_reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit | None:
        return self._take()

    def mark_slot_used(self, ctx: SlotMarkUsedContext) -> None:
        permit = ctx.permit
        assert isinstance(permit, _Permit)
        with self._lock:
            self._pending -= 1
            diarize = getattr(ctx.slot_info, "activity_type", "") == m.DIARIZE
            if diarize and self.spare and not self._spare_busy:
                self._spare_busy, permit.kind = True, "spare"
            else:
                self._busy, permit.kind = self._busy + 1, "counted"
        self._notify()

    def release_slot(self, ctx: SlotReleaseContext) -> None:
        permit = ctx.permit
        assert isinstance(permit, _Permit)
        with self._lock:
            if permit.kind == "pending":
                self._pending -= 1
            elif permit.kind == "spare":
                self._spare_busy = False
            else:
                self._busy -= 1
        self._notify()

    def _notify(self) -> None:
        if self._loop is not None and self._changed is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the worker is shutting down
                self._loop.call_soon_threadsafe(self._changed.set)


async def main() -> None:
    settings = get_settings()
    setup_logging(settings, "worker_gpu")
    plan = thread_plan(settings)
    apply_thread_plan(plan)
    log.info("thread plan", extra=asdict(plan))
    # Load models before polling so the first task does not pay for it; a broken model setting still
    # lets the worker start (its activities then fail with a clear, non-retryable error).
    for name, load in (
        ("asr", lambda: get_transcriber(AsrConfig.from_settings(settings))),
        ("diarizer", lambda: get_diarizer(settings)),
    ):
        try:
            await asyncio.to_thread(load)
        except Exception as exc:
            log.error("model failed to load", extra={"model": name, "error_type": type(exc).__name__})
    client = await connect(settings)
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
