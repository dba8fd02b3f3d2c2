"""Shared fixtures: one real Temporal dev server, one throwaway Postgres and one pair of worker
processes for the whole test run (they are slow to start; tests use fresh session ids)."""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from unittest.mock import patch

import pytest
import pytest_asyncio

from tests.support.harness import CORPUS, Postgres, TemporalDevServer, workers
from tests.support.stack import Stack
from therapybridge import db
from therapybridge.settings import get_settings
from therapybridge.temporal import connect


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "synthetic").is_dir():
        pytest.fail(f"test corpus not found at {CORPUS} (set THERAPYBRIDGE_CORPUS)")
    return CORPUS


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="tb-test-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def services(workdir: Path) -> Iterator[tuple[TemporalDevServer, Postgres]]:
    temporal, postgres = TemporalDevServer(workdir), Postgres(workdir)
    temporal.start()
    postgres.start()
    try:
        yield temporal, postgres
    finally:
        temporal.stop()
        postgres.stop()


@pytest.fixture(scope="session")
def test_env(workdir: Path, services: tuple[TemporalDevServer, Postgres]) -> Iterator[dict[str, str]]:
    """Environment for this process and every worker: fast retries, the throwaway services."""
    temporal, postgres = services
    key = base64.b64encode(os.urandom(32)).decode()
    overrides = {
        "THERAPYBRIDGE_DATA_DIR": str(workdir / "data"),
        "TEMPORAL_ADDRESS": temporal.address,
        "DATABASE_URL": postgres.url,
        "CODEC_KEYS": f"test:{key}",
        "RETRY_INITIAL_S": "0.5",
        "RETRY_MAX_INTERVAL_S": "2",
        "HEARTBEAT_TIMEOUT_S": "20",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    with patch.dict(os.environ, overrides):
        get_settings.cache_clear()
        db.get_engine.cache_clear()
        yield {**os.environ}
    get_settings.cache_clear()
    db.get_engine.cache_clear()


@pytest_asyncio.fixture(scope="session")
async def stack(
    workdir: Path, services: tuple[TemporalDevServer, Postgres], test_env: dict[str, str]
) -> AsyncIterator[Stack]:
    settings = get_settings()
    await db.init_db()
    client = await connect(settings)
    logdir = workdir / "logs"
    logdir.mkdir(exist_ok=True)
    with workers(test_env, logdir):
        yield Stack(settings, test_env, client, workdir, *services)
