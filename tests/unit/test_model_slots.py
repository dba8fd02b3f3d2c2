"""ModelSlots, the gpu worker's activity slot supplier: a worker polls for a task only when it could start
it at once, and a diarization runs beside the transcriptions only where the thread plan leaves room."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from therapybridge import messages as m
from therapybridge.worker_gpu.slots import ModelSlots


@dataclass
class _Info:
    activity_type: str


@dataclass
class _Ctx:
    """The SDK's reserve/mark/release contexts, reduced to what ModelSlots reads."""

    permit: Any = None
    slot_info: Any = None


def _start(slots: ModelSlots, activity_type: str) -> Any:
    permit = slots.try_reserve_slot(_Ctx())
    assert permit is not None
    slots.mark_slot_used(_Ctx(permit, _Info(activity_type)))
    return permit


def test_no_poll_beyond_the_transcriptions_the_worker_can_run() -> None:
    slots = ModelSlots(transcriptions=2, spare=False)
    a = _start(slots, m.TRANSCRIBE_WINDOW)
    pending = slots.try_reserve_slot(_Ctx())  # polling: the task type is not known yet
    assert pending is not None and slots.try_reserve_slot(_Ctx()) is None
    slots.release_slot(_Ctx(pending))  # the poll came back empty
    b = _start(slots, m.TRANSCRIBE_WINDOW)
    assert slots.try_reserve_slot(_Ctx()) is None
    slots.release_slot(_Ctx(a))
    slots.release_slot(_Ctx(b))
    assert _start(slots, m.TRANSCRIBE_WINDOW) is not None


def test_one_diarization_runs_beside_the_transcriptions_when_the_plan_has_room() -> None:
    slots = ModelSlots(transcriptions=1, spare=True)
    d = _start(slots, m.DIARIZE)
    assert d.kind == "spare"
    t = _start(slots, m.TRANSCRIBE_WINDOW)  # the diarization did not take the transcription's place
    assert slots.try_reserve_slot(_Ctx()) is None
    slots.release_slot(_Ctx(t))
    d2 = _start(slots, m.DIARIZE)  # a second diarization while the first runs counts as a transcription
    assert d2.kind == "counted" and slots.try_reserve_slot(_Ctx()) is None
    slots.release_slot(_Ctx(d))
    slots.release_slot(_Ctx(d2))
    assert _start(slots, m.DIARIZE).kind == "spare"


def test_without_room_a_diarization_takes_a_transcriptions_place() -> None:
    slots = ModelSlots(transcriptions=1, spare=False)
    assert _start(slots, m.DIARIZE).kind == "counted"
    assert slots.try_reserve_slot(_Ctx()) is None


async def test_a_waiting_poll_resumes_when_a_task_finishes() -> None:
    slots = ModelSlots(transcriptions=1, spare=False)
    first = await slots.reserve_slot(_Ctx())
    slots.mark_slot_used(_Ctx(first, _Info(m.TRANSCRIBE_WINDOW)))
    waiting = asyncio.ensure_future(slots.reserve_slot(_Ctx()))
    await asyncio.sleep(0)  # let it find the worker full
    assert not waiting.done()
    # The SDK may release from another thread: the waiter is woken through the loop, not by polling.
    await asyncio.to_thread(slots.release_slot, _Ctx(first))
    assert await asyncio.wait_for(waiting, timeout=60) is not None
