"""GET /api/health: database, Temporal, and pollers on both task queues. 200 only when all are up."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import text

from therapybridge import breaker
from therapybridge.api.deps import SettingsDep, TemporalUnavailable
from therapybridge.api.models import BreakerReport, CheckResult, HealthReport
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
    ok = database.ok and temporal.ok and all(p.ok for p in pollers.values())
    report = HealthReport(
        status="ok" if ok else "unavailable", database=database, temporal=temporal, task_queues=pollers
    )
    with contextlib.suppress(Exception):  # no database: the check above already says so
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            report.breakers = {b.service: BreakerReport(**b.as_dict()) for b in await breaker.states()}
    return JSONResponse(
        report.model_dump(), status_code=status.HTTP_200_OK if ok else status.HTTP_503_SERVICE_UNAVAILABLE
    )
