"""Fixtures for the gateway tests: the real `therapybridge serve` process (gateway only: it finds the
test stack's Temporal dev server answering and its workers polling) and accounts.

Test modules load them with `pytest_plugins = ["tests.support.api_fixtures"]`; helpers are in tests/support/api.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.support.api import PING_S, TOKEN_MINUTES, UPLOAD_CAP_MB, Account, Api, make_account
from tests.support.harness import REPO
from tests.support.ports import free_port
from tests.support.stack import Stack


@pytest_asyncio.fixture(scope="session")
async def api(stack: Stack) -> AsyncIterator[Api]:
    port = free_port()
    log = stack.workdir / "logs" / "api.log"
    # ALLOW_QUERY_TOKEN: these tests' stream helpers still put the token in the URL (tests/api/test_tickets.py
    # covers tickets, which the web app uses).
    env = {
        **stack.env,
        "MAX_UPLOAD_SIZE_MB": str(UPLOAD_CAP_MB),
        "PROGRESS_PING_S": str(PING_S),
        "ACCESS_TOKEN_MINUTES": str(TOKEN_MINUTES),
        "ALLOW_QUERY_TOKEN": "true",
        # One gateway serves every API test from one client address, and the schema fuzzer sends garbage
        # sign-ins: the throttle would lock the tests out of each other. Throttling and quotas have their
        # own gateways in tests/api/test_login_abuse.py and tests/api/test_limits.py.
        "LOGIN_MAX_FAILURES_PER_CLIENT": "100000",
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": "100000",
        "LOGIN_MAX_FAILURES_PER_ACCOUNT_CLIENT": "100000",
        "MAX_ACTIVE_SESSIONS_PER_USER": "1000",
    }
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "therapybridge.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Api(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", proc, log, stack)
    try:
        # Healthy means the database, Temporal and a poller on each queue: the workers are ready too.
        deadline = time.monotonic() + 180
        async with httpx.AsyncClient(base_url=server.base_url, timeout=5) as c:
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"the gateway exited with {proc.returncode}:\n{server.log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await c.get("/api/health")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    pytest.fail(f"the gateway never became healthy:\n{server.log_tail()}")
                await asyncio.sleep(0.5)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest_asyncio.fixture(scope="session")
async def therapist(api: Api) -> Account:
    return await make_account(api)


@pytest_asyncio.fixture(scope="session")
async def other_therapist(api: Api) -> Account:
    return await make_account(api, patient_name="Other Patient")


@pytest_asyncio.fixture(scope="session")
async def admin(api: Api) -> Account:
    return await make_account(api, role="admin", patient_name="Admin Patient")
