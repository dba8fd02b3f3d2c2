"""GET /api/health: database, Temporal, pollers on both task queues, and no stalled work. 200 only when
all are fine."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import text

from therapybridge import breaker
from therapybridge.api.deps import SettingsDep, TemporalUnavailable
from therapybridge.api.models import BreakerReport, CheckResult, HealthReport, StallReport, StallsCheck
from therapybridge.api.monitor import SessionMonitor
from therapybridge.db import get_engine
from therapybridge.supervisor import queue_has_pollers

router = APIRouter(prefix="/api", tags=["health"])
CHECK_TIMEOUT_S = 3.0


async def _database() -> CheckResult:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S), get_engine().connect() as conn:
            await conn.execute(text("SELECT 1"))
        return CheckResult(ok=True)
    except Exception as exc:  # any failure is "down"; the type says which
        return CheckResult(ok=False, detail=f"unreachable ({type(exc).__name__})")


def _stalls(monitor: SessionMonitor, threshold_s: float) -> StallsCheck:
    """From the session monitor's last sweep (every STALL_CHECK_S): per kind of worker, how many
    sessions wait and the longest wait."""
    now = datetime.now(UTC)
    workers: dict[str, StallReport] = {}
    for kind in sorted({s.kind for s in monitor.stalls}):
        mine = [s for s in monitor.stalls if s.kind == kind]
        oldest = min(mine, key=lambda s: s.since)
        workers[kind] = StallReport(
            sessions=len({s.session_id for s in mine}), waiting_s=round(oldest.waited_s(now), 1),
            since=oldest.since.isoformat(),
        )  # fmt: skip
    checked = monitor.checked_at.isoformat() if monitor.checked_at else None
    return StallsCheck(ok=not workers, threshold_s=threshold_s, checked_at=checked, workers=workers)


@router.get(
    "/health",
    response_model=HealthReport,
    responses={503: {"model": HealthReport, "description": "Something is down; see which."}},
)
async def health(request: Request, settings: SettingsDep) -> JSONResponse:
    """No authentication: load balancers and operators call it. Says nothing about any session."""
    queues = (settings.io_task_queue, settings.gpu_task_queue)
    database = await _database()
    temporal = CheckResult(ok=False, detail="unreachable")
    pollers = {q: CheckResult(ok=False, detail="unknown: Temporal is unreachable") for q in queues}
    try:
        client = await request.app.state.temporal.get(timeout=CHECK_TIMEOUT_S)
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            await client.service_client.check_health()
        temporal = CheckResult(ok=True)
        for q in queues:
            try:
                async with asyncio.timeout(CHECK_TIMEOUT_S):
                    has = await queue_has_pollers(client, q, settings.temporal_namespace)
                pollers[q] = CheckResult(ok=has, detail=None if has else "no worker is polling")
            except Exception as exc:
                pollers[q] = CheckResult(ok=False, detail=f"cannot describe ({type(exc).__name__})")
    except (TemporalUnavailable, TimeoutError, Exception) as exc:
        temporal = CheckResult(ok=False, detail=f"unreachable ({type(exc).__name__})")
    stalls = _stalls(request.app.state.monitor, settings.stall_after_s)
    ok = database.ok and temporal.ok and all(p.ok for p in pollers.values()) and stalls.ok
    report = HealthReport(
        status="ok" if ok else "unavailable", database=database, temporal=temporal, task_queues=pollers, stalls=stalls
    )
    with contextlib.suppress(Exception):  # no database: the check above already says so
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            report.breakers = {b.service: BreakerReport(**b.as_dict()) for b in await breaker.states()}
    return JSONResponse(
        report.model_dump(), status_code=status.HTTP_200_OK if ok else status.HTTP_503_SERVICE_UNAVAILABLE
    )
