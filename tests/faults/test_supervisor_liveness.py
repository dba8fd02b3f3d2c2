"""`therapybridge serve`'s supervisor restarts a child that stops answering, not only one that dies.

A SIGSTOPped process keeps its pid and its sockets: the io worker is caught by its liveness file going
stale, the Temporal dev server by its gRPC health check going unanswered. Every process this test
stops is continued and killed in teardown, whatever happens.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.faults import wait_for
from tests.support.ports import free_port
from therapybridge.supervisor import Child, Supervisor

pytestmark = pytest.mark.slow
LIMIT_S = 6.0  # CHILD_UNRESPONSIVE_S for this supervisor (the default is 60 s)


@pytest.fixture
def frozen() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes the test SIGSTOPs: always continued, then killed."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        for sig in (signal.SIGCONT, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(30)


def _freeze(child: Child, frozen: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    proc = child.proc
    assert proc is not None and child.alive()
    frozen.append(proc)
    os.killpg(proc.pid, signal.SIGSTOP)
    return proc


async def test_a_frozen_child_is_killed_and_restarted(
    test_env: dict[str, str], tmp_path: Path, frozen: list[subprocess.Popen[bytes]], caplog: pytest.LogCaptureFixture
) -> None:
    from therapybridge.settings import get_settings

    settings = get_settings().model_copy(
        update={
            "data_dir": tmp_path / "data",
            "temporal_address": f"127.0.0.1:{free_port()}",
            "child_unresponsive_s": LIMIT_S,
        }
    )
    settings.data_dir.mkdir(parents=True)
    caplog.set_level(logging.INFO, logger="therapybridge.supervisor")
    sup = Supervisor(settings)
    try:
        assert await sup.start_server_if_needed(headless=True)
        worker = sup.add("worker_io", [sys.executable, "-m", "therapybridge.worker_io"])
        server = next(c for c in sup.children if c.name == "temporal")
        sup.watch()

        async def answering(c: Child) -> bool:
            return c.alive() and c.answered_since_start() and c.unresponsive(LIMIT_S) is None

        for child in (worker, server):
            await wait_for(lambda c=child: answering(c), 240, what=f"{child.name} answering")
            old = _freeze(child, frozen)
            assert old.poll() is None  # stopped, not dead: only its silence can tell

            async def replaced(c: Child = child, old: subprocess.Popen[bytes] = old) -> bool:
                return c.proc is not old and old.poll() is not None and await answering(c)

            await wait_for(replaced, 300, interval=0.5, what=f"{child.name} restarted after SIGSTOP")
            assert child.restarts == 1 and old.returncode == -signal.SIGKILL

        silent = [r for r in caplog.records if r.getMessage() == "child not answering; restarting"]
        assert [r.child for r in silent] == ["worker_io", "temporal"]  # type: ignore[attr-defined]
        assert all(r.silent_s >= LIMIT_S for r in silent)  # type: ignore[attr-defined]
    finally:
        await sup.stop()
    assert all(not c.alive() for c in sup.children)
