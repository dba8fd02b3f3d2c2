"""The provider circuit breakers (therapybridge/breaker.py): the state machine on both databases the
service supports, counts that stay exact when several processes record at once, and the breaker
driven open and closed by real activities against a provider that fails, as the gateway shows it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fault_harness import fresh_database
from tests.harness import REPO, Postgres, TemporalDevServer
from therapybridge import breaker, db
from therapybridge.settings import Settings

T, D = breaker.TRANSCRIPTION, breaker.DIARIZATION
SETTINGS = Settings(
    breaker_failure_threshold=5,
    breaker_success_threshold=2,
    breaker_transcription_open_s=120,
    breaker_diarization_open_s=60,
)


@pytest_asyncio.fixture(params=["postgres", "sqlite"])
async def engine(
    request: pytest.FixtureRequest, services: tuple[TemporalDevServer, Postgres], tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """A migrated database of the test's own (the breaker table comes from migration 0003)."""
    if request.param == "postgres":
        url = await fresh_database(services[1].url, f"breaker_{uuid.uuid4().hex[:8]}")
        url = Settings(database_url=url).resolved_database_url
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'breaker.db'}"
    eng = db.get_engine.__wrapped__(url)  # uncached: disposed at the end
    await db.init_db(eng)
    yield eng
    await eng.dispose()


async def test_defaults() -> None:
    s = Settings()
    assert (s.breaker_failure_threshold, s.breaker_success_threshold) == (5, 2)
    assert (s.breaker_transcription_open_s, s.breaker_diarization_open_s) == (120.0, 60.0)


async def test_opens_half_opens_and_closes(engine: AsyncEngine) -> None:
    kw = {"settings": SETTINGS, "engine": engine}
    now = 1_000_000.0
    assert (await breaker.state(T, now=now, **kw)).state == "closed"  # no row yet
    for i in range(4):
        st = await breaker.record_failure(T, "ProviderUnavailable", now=now + i, **kw)
        assert st.state == "closed" and st.failures == i + 1
    await breaker.check(T, **kw)  # closed: admits

    st = await breaker.record_failure(T, "ProviderUnavailable", now=now + 4, **kw)
    assert st.state == "open" and st.retry_after_s == 120 and st.last_error == "ProviderUnavailable"
    assert (await breaker.state(D, now=now + 4, **kw)).state == "closed"  # per service
    assert (await breaker.state(T, now=now + 4 + 119.5, **kw)).state == "open"

    # Half-open after the timeout; one failed trial opens it again for a full timeout.
    assert (await breaker.state(T, now=now + 4 + 120, **kw)).state == "half_open"
    st = await breaker.record_failure(T, "ProviderUnavailable", now=now + 130, **kw)
    assert st.state == "open" and st.retry_after_s == 120

    # Half-open again: two successes in a row close it and reset the failure run.
    st = await breaker.record_success(T, now=now + 250, **kw)
    assert st.state == "half_open" and st.successes == 1
    st = await breaker.record_success(T, now=now + 251, **kw)
    assert st.state == "closed" and st.failures == 0 and st.successes == 0


async def test_a_success_resets_the_failure_run(engine: AsyncEngine) -> None:
    kw = {"settings": SETTINGS, "engine": engine}
    for _ in range(4):
        await breaker.record_failure(D, "RuntimeError", now=0.0, **kw)
    assert (await breaker.record_success(D, now=1.0, **kw)).failures == 0
    for _ in range(4):
        st = await breaker.record_failure(D, "RuntimeError", now=2.0, **kw)
    assert st.state == "closed"  # never 5 in a row
    st = await breaker.record_failure(D, "RuntimeError", now=3.0, **kw)
    assert st.state == "open" and st.retry_after_s == 60  # diarization's timeout


async def test_check_names_the_open_service(engine: AsyncEngine) -> None:
    kw = {"settings": SETTINGS, "engine": engine}
    for _ in range(5):
        await breaker.record_failure(D, "RuntimeError", **kw)
    await breaker.check(T, **kw)  # transcription is fine
    with pytest.raises(breaker.BreakerOpen) as caught:
        await breaker.check(**kw)
    assert caught.value.service == "diarization" and 0 < caught.value.retry_after_s <= 60
    assert caught.value.body()["service"] == "diarization" and "diarization" in caught.value.body()["detail"]
    assert [s.state for s in await breaker.states(**kw)] == ["closed", "open"]
    await breaker.reset(D, engine=engine)
    await breaker.check(**kw)


RECORDER = """
import sys
from therapybridge import breaker
for _ in range(int(sys.argv[1])):
    assert breaker.record_failure_sync("transcription", "ProviderUnavailable") is not None
"""


async def test_processes_share_one_exact_count(services: tuple[TemporalDevServer, Postgres], test_env: dict) -> None:
    """Four processes record failures at the same time (the sync path the gpu worker's thread
    activities use): no count is lost, and everyone sees the same state."""
    url = await fresh_database(services[1].url, f"breaker_{uuid.uuid4().hex[:8]}")
    eng = db.get_engine.__wrapped__(Settings(database_url=url).resolved_database_url)
    await db.init_db(eng)
    env = {**test_env, "DATABASE_URL": url, "BREAKER_FAILURE_THRESHOLD": "1000"}
    cmd = [sys.executable, "-c", RECORDER, "25"]
    procs = [await asyncio.create_subprocess_exec(*cmd, env=env, cwd=REPO, stderr=subprocess.PIPE) for _ in range(4)]
    for p in procs:
        _, err = await asyncio.wait_for(p.communicate(), 120)
        assert p.returncode == 0, err.decode()[-2000:]
    st = await breaker.state(T, engine=eng, settings=Settings(breaker_failure_threshold=1000))
    assert st.failures == 100 and st.state == "closed"
    st = await breaker.record_failure(T, "x", engine=eng, settings=Settings(breaker_failure_threshold=101))
    assert st.state == "open"
    await eng.dispose()


async def test_unreachable_database_never_fails_the_caller(tmp_path: Path) -> None:
    """Breaker bookkeeping is best effort: the sync helpers log and return None."""
    code = (
        "from therapybridge import breaker\n"
        "assert breaker.record_failure_sync('transcription', 'x') is None\n"
        "assert breaker.record_success_sync('transcription') is None\n"
    )
    env = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none", "THERAPYBRIDGE_DATA_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], env={**_base_env(), **env}, cwd=REPO, capture_output=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "PYTHONPATH")}
