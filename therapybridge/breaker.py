"""Circuit breakers for the model providers, shared by every API and worker process through the database.

One row per service ("transcription", "diarization"). Activities record each attempt's outcome;
the gateway refuses new uploads while a breaker is open (503 + Retry-After naming the service) and
shows the states on GET /api/health.

    closed ──N consecutive failures──> open ──timeout──> half-open ──M successes──> closed
                                         ^                   │
                                         └──── a failure ────┘

State is derived, not stored: `opened_at` NULL means closed; set and younger than the service's
timeout means open; older means half-open. Every change is one atomic UPDATE, so concurrent workers
never lose a count (Postgres and SQLite alike). Half-open admits uploads again (they are the trial
traffic); a failure re-opens, `success_threshold` successes in a row close.

Failures that say nothing about the provider (a bad request, invalid audio, a cancellation) are not
recorded; the callers decide. Breaker bookkeeping never fails an activity: the sync helpers used by
the gpu worker's thread activities log a warning and carry on when the database is unreachable.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Coroutine
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import and_, case, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel

from therapybridge.settings import Settings, get_settings

log = logging.getLogger("therapybridge.breaker")

TRANSCRIPTION = "transcription"
DIARIZATION = "diarization"
SERVICES = (TRANSCRIPTION, DIARIZATION)
State = Literal["closed", "open", "half_open"]


class ProviderBreaker(SQLModel, table=True):
    __tablename__ = "provider_breakers"
    service: str = Field(primary_key=True)
    failures: int = 0  # consecutive failures
    successes: int = 0  # consecutive successes while half-open
    opened_at: float | None = None  # epoch seconds; NULL: closed
    last_error: str | None = None  # an error type, never a message (messages may carry PHI)
    updated_at: float = 0.0


@dataclass(frozen=True)
class Policy:
    failure_threshold: int
    success_threshold: int
    open_s: float

    @classmethod
    def of(cls, service: str, settings: Settings | None = None) -> Policy:
        s = settings or get_settings()
        open_s = s.breaker_diarization_open_s if service == DIARIZATION else s.breaker_transcription_open_s
        return cls(max(1, s.breaker_failure_threshold), max(1, s.breaker_success_threshold), open_s)


@dataclass(frozen=True)
class BreakerState:
    service: str
    state: State
    failures: int
    successes: int
    retry_after_s: int  # seconds until half-open (0 unless open)
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class BreakerOpen(Exception):
    """A provider's breaker is open: the caller should answer 503 with Retry-After."""

    def __init__(self, state: BreakerState) -> None:
        super().__init__(f"the {state.service} service is unavailable; retry in {state.retry_after_s} s")
        self.state = state
        self.service = state.service
        self.retry_after_s = state.retry_after_s

    def body(self) -> dict[str, Any]:
        """The 503 body: which service, when to retry (no detail beyond that)."""
        return {"detail": str(self), "service": self.service, "retry_after_s": self.retry_after_s}


def _derive(row: ProviderBreaker | None, service: str, policy: Policy, now: float) -> BreakerState:
    if row is None or row.opened_at is None:
        return BreakerState(service, "closed", row.failures if row else 0, 0, 0, row.last_error if row else None)
    remaining = row.opened_at + policy.open_s - now
    if remaining > 0:
        retry_after = max(1, int(remaining + 0.999))
        return BreakerState(service, "open", row.failures, row.successes, retry_after, row.last_error)
    return BreakerState(service, "half_open", row.failures, row.successes, 0, row.last_error)


def _engine(engine: AsyncEngine | None) -> AsyncEngine:
    from therapybridge import db

    return engine or db.get_engine()


async def _ensure_row(conn: Any, service: str) -> None:
    table = ProviderBreaker.__table__  # type: ignore[attr-defined]
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    row = {"service": service, "failures": 0, "successes": 0, "updated_at": 0.0}
    await conn.execute(insert(table).values(**row).on_conflict_do_nothing())


async def _read(conn: Any, service: str) -> ProviderBreaker | None:
    table = ProviderBreaker.__table__  # type: ignore[attr-defined]
    row = (await conn.execute(select(table).where(table.c.service == service))).mappings().first()
    return ProviderBreaker(**row) if row else None


async def record_failure(
    service: str, error_type: str = "", *, settings: Settings | None = None, engine: AsyncEngine | None = None,
    now: float | None = None,
) -> BreakerState:  # fmt: skip
    """One more consecutive failure: opens a closed breaker at the threshold, re-opens a half-open one."""
    policy, now = Policy.of(service, settings), time.time() if now is None else now
    t = ProviderBreaker.__table__  # type: ignore[attr-defined]
    closed = t.c.opened_at.is_(None)
    half_open = and_(t.c.opened_at.is_not(None), t.c.opened_at <= now - policy.open_s)
    async with _engine(engine).begin() as conn:
        await _ensure_row(conn, service)
        before = _derive(await _read(conn, service), service, policy, now)
        await conn.execute(
            update(t)
            .where(t.c.service == service)
            .values(
                opened_at=case(
                    (and_(closed, t.c.failures + 1 >= policy.failure_threshold), now),
                    (half_open, now),  # the trial failed: open again for a full timeout
                    else_=t.c.opened_at,
                ),
                failures=t.c.failures + 1,
                successes=0,
                last_error=error_type[:100] or None,
                updated_at=now,
            )
        )
        result = _derive(await _read(conn, service), service, policy, now)
    if before.state != "open" and result.state == "open":
        log.warning("breaker opened", extra={"service": service, "failures": result.failures, "error_type": error_type})
    return result


async def record_success(
    service: str, *, settings: Settings | None = None, engine: AsyncEngine | None = None, now: float | None = None
) -> BreakerState:
    """A success: resets the failure run; in half-open counts towards closing."""
    policy, now = Policy.of(service, settings), time.time() if now is None else now
    t = ProviderBreaker.__table__  # type: ignore[attr-defined]
    half_open = and_(t.c.opened_at.is_not(None), t.c.opened_at <= now - policy.open_s)
    async with _engine(engine).begin() as conn:
        before = _derive(await _read(conn, service), service, policy, now)
        if before.state == "closed" and before.failures == 0:
            return before  # the common case: nothing to write
        await _ensure_row(conn, service)
        closing = and_(half_open, t.c.successes + 1 >= policy.success_threshold)
        await conn.execute(
            update(t)
            .where(t.c.service == service)
            .values(
                opened_at=case((closing, None), else_=t.c.opened_at),
                successes=case((closing, 0), (half_open, t.c.successes + 1), else_=0),
                failures=case((t.c.opened_at.is_(None), 0), (closing, 0), else_=t.c.failures),
                updated_at=now,
            )
        )
        result = _derive(await _read(conn, service), service, policy, now)
    if before.state != "closed" and result.state == "closed":
        log.info("breaker closed", extra={"service": service})
    return result


async def state(
    service: str, *, settings: Settings | None = None, engine: AsyncEngine | None = None, now: float | None = None
) -> BreakerState:
    async with _engine(engine).connect() as conn:
        row = await _read(conn, service)
    return _derive(row, service, Policy.of(service, settings), time.time() if now is None else now)


async def states(*, settings: Settings | None = None, engine: AsyncEngine | None = None) -> list[BreakerState]:
    """Every service's breaker, for GET /api/health."""
    return [await state(s, settings=settings, engine=engine) for s in SERVICES]


async def check(*services: str, settings: Settings | None = None, engine: AsyncEngine | None = None) -> None:
    """Raise BreakerOpen for the first open breaker among `services` (all by default)."""
    for service in services or SERVICES:
        current = await state(service, settings=settings, engine=engine)
        if current.state == "open":
            raise BreakerOpen(current)


async def reset(service: str, *, engine: AsyncEngine | None = None) -> None:
    """Close a breaker by hand (operations: the provider is known to be back)."""
    t = ProviderBreaker.__table__  # type: ignore[attr-defined]
    async with _engine(engine).begin() as conn:
        await conn.execute(
            update(t)
            .where(t.c.service == service)
            .values(opened_at=None, failures=0, successes=0, updated_at=time.time())
        )


# --------------------------------------------------------------------------- sync activities

_loop: asyncio.AbstractEventLoop | None = None
_loop_engine: AsyncEngine | None = None
_loop_lock = threading.Lock()


def _background_loop() -> tuple[asyncio.AbstractEventLoop, AsyncEngine]:
    """A private event loop thread with its own engine: thread activities have no loop, and async
    engines must not be shared across loops."""
    global _loop, _loop_engine
    with _loop_lock:
        if _loop is None or _loop_engine is None:
            from therapybridge import db

            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="breaker-loop", daemon=True).start()
            _loop_engine = db.get_engine.__wrapped__()  # uncached: this loop's own pool
            _loop = loop
        return _loop, _loop_engine


def _run_sync(make: Any, what: str, service: str) -> BreakerState | None:
    try:
        loop, engine = _background_loop()
        coro: Coroutine[Any, Any, BreakerState] = make(engine)
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=10)
    except Exception as exc:  # bookkeeping must never fail the activity
        log.warning("breaker not updated", extra={"service": service, "op": what, "error_type": type(exc).__name__})
        return None


def record_failure_sync(service: str, error_type: str = "") -> BreakerState | None:
    return _run_sync(lambda e: record_failure(service, error_type, engine=e), "failure", service)


def record_success_sync(service: str) -> BreakerState | None:
    return _run_sync(lambda e: record_success(service, engine=e), "success", service)
