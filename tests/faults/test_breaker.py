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

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import WorkflowFailureError

from tests.support.faults import FakeOpenAI, Gateway, fresh_database, lane
from tests.support.harness import REPO, Postgres, TemporalDevServer
from tests.support.stack import Stack
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


# --------------------------------------------------------------------------- end to end


@pytest.mark.slow
async def test_provider_failures_open_the_breaker_and_successes_close_it(stack: Stack, corpus: Path) -> None:
    """Real sessions against a transcription API that answers 503: the gpu worker's failed attempts
    open the breaker (5 in a row, two sessions of 3 attempts); the gateway then refuses uploads with
    503 + Retry-After naming the service and shows the state on /api/health; after the timeout it
    half-opens, admits uploads, and two processed sessions close it."""
    open_s = 4.0
    fake = FakeOpenAI("Hello there, how are you feeling today?")
    extra = {"breaker_transcription_open_s": open_s}
    try:
        async with lane(stack.env, stack.settings, stack.workdir / "logs", own_database=True, asr_provider="openai",
                        openai_base_url=fake.base_url, openai_api_key=FakeOpenAI.API_KEY, **extra) as ln:  # fmt: skip
            gateway = Gateway(ln.env, ln.log_path("api")).start()
            try:
                await gateway.wait_healthy()
                token, patient = await gateway.account()
                auth = {"Authorization": f"Bearer {token}"}
                kw = {"engine": ln.engine, "settings": ln.settings}
                fake.script = [503] * 6
                for _ in range(2):
                    with pytest.raises(WorkflowFailureError):
                        await asyncio.wait_for(
                            (await ln.start(stack.stage_upload(corpus / "real" / "jfk.flac"))).result(), 300
                        )
                st = await breaker.state(T, **kw)
                assert st.state == "open" and st.failures >= 5 and st.last_error == "ProviderUnavailable"

                async with httpx.AsyncClient(base_url=gateway.base_url, headers=auth, timeout=60) as c:
                    health = (await c.get("/api/health")).json()
                    assert health["breakers"]["transcription"]["state"] == "open"
                    assert health["breakers"]["diarization"]["state"] == "closed"
                    jfk = (corpus / "real" / "jfk.flac").read_bytes()
                    r = await c.post(
                        "/api/sessions/upload", files={"file": ("jfk.flac", jfk)}, data={"patient_id": patient}
                    )
                    assert r.status_code == 503 and "transcription" in r.json()["detail"]
                    assert 0 < int(r.headers["Retry-After"]) <= open_s

                    await asyncio.sleep(open_s + 0.5)
                    assert (await c.get("/api/health")).json()["breakers"]["transcription"]["state"] == "half_open"
                    states = []
                    for _ in range(2):  # the provider is back: uploads are admitted, each success counts
                        r = await c.post(
                            "/api/sessions/upload", files={"file": ("jfk.flac", jfk)}, data={"patient_id": patient}
                        )
                        assert r.status_code == 202, r.text
                        await asyncio.wait_for(ln.client.get_workflow_handle(f"session-{r.json()['id']}").result(), 300)
                        states.append((await breaker.state(T, **kw)).state)
                    assert states == ["half_open", "closed"]
                    assert (await c.get("/api/health")).json()["breakers"]["transcription"]["state"] == "closed"
            finally:
                gateway.stop()
    finally:
        fake.stop()
