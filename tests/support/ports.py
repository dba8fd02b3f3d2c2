"""Ports for the servers tests and benchmarks start on loopback: pick a free one, wait until one listens."""

from __future__ import annotations

import contextlib
import random
import socket
import time
from collections.abc import Callable


def free_port(host: str = "127.0.0.1") -> int:
    """A free port the OS picks (in its ephemeral range)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def low_port(host: str = "127.0.0.1") -> int:
    """A free port below the kernel's ephemeral range (32768 and up on Linux): Temporal stores membership
    ports as smallint, and no outgoing connection can take such a port while the server is down for a
    restart (an ephemeral one could)."""
    rng = random.Random()
    for _ in range(1000):
        port = rng.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 32000")


def wait_port(
    port: int, timeout: float = 60.0, host: str = "127.0.0.1", alive: Callable[[], bool] | None = None
) -> None:
    """Return once something accepts connections on host:port; fail early if `alive` says the process
    meant to listen has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError(f"the process meant to listen on {host}:{port} exited")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")
