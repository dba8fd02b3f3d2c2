"""`therapybridge serve`: the API gateway, with what a one-machine setup is missing started beside it."""

from __future__ import annotations

import socket
import sys
from collections.abc import Awaitable, Callable

import uvicorn

from therapybridge.cli.stack import start_local_stack
from therapybridge.settings import get_settings
from therapybridge.supervisor import Supervisor


async def serve(host: str, port: int) -> int:
    """The gateway. With a local Temporal address (the embedded default) it also runs what is missing
    on this machine: the dev server if nothing answers, and workers if no worker polls. Against a
    remote cluster it runs the gateway alone; workers are started separately."""
    from therapybridge.logs import setup_logging
    from therapybridge.temporal import is_local

    settings = get_settings()
    setup_logging(settings, "api")
    sup = Supervisor(settings)
    try:
        if is_local(settings.temporal_address):
            await start_local_stack(sup)
            sup.watch()
        config = uvicorn.Config(
            "therapybridge.api.app:create_app",
            factory=True,
            host=host,
            port=port,
            access_log=False,  # uvicorn's access log prints query strings (tokens); the app logs requests
            log_config=None,
            lifespan="on",
            proxy_headers=False,
            timeout_graceful_shutdown=10,  # open progress streams must not hold a shutdown forever
        )
        print(f"TherapyBridge API on http://{host}:{port} (docs: /docs)", file=sys.stderr)
        await _Gateway(config, sup.stop).serve()
        return 0
    finally:
        await sup.stop()


class _Gateway(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT once it has shut down, which ends the process before any
    `finally` runs: the supervisor's children are stopped as part of the shutdown instead."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[], Awaitable[None]]) -> None:
        super().__init__(config)
        self._on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        await self._on_shutdown()
