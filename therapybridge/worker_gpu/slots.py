"""ModelSlots: the gpu worker's activity slot supplier, so it only polls for work it can start at once."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from temporalio.worker import (
    CustomSlotSupplier,
    SlotMarkUsedContext,
    SlotPermit,
    SlotReleaseContext,
    SlotReserveContext,
)

from therapybridge import messages as m


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
