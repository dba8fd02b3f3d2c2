"""The cluster's processes as docker-compose.yml declares them: the one source of what the harness runs,
so compose and the tested topology cannot drift (issue 15, "compose stays truthful").

For each service the harness takes the compose file's entrypoint and command and the variables its
`environment:` sets. Only the host differs from a container: a path mounted into the container is the
repository file behind it, `python` is this interpreter, `therapybridge` is `python -m therapybridge.cli`,
and a variable whose compose value names a compose host, volume or secret (`postgres:5432`, `/data`,
`${POSTGRES_PASSWORD}`) gets the harness's value. A variable the harness has no value for takes the
compose file's own (a literal such as ASR_DEVICE=cpu, or the `${VAR:-default}`), and one compose requires
(`${VAR:?}`) with no harness value fails the start, loudly.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.support.compose import interpolate
from tests.support.harness import REPO

COMPOSE_FILE = REPO / "docker-compose.yml"

# The compose services the harness starts. The model workers are `worker_cpu`: this host has no GPU.
HARNESS_SERVICES = (
    "temporal-schema", "temporal", "temporal-namespace", "temporal-ui", "api", "worker_io", "worker_cpu",
)  # fmt: skip


@cache
def _services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    return services


@dataclass(frozen=True)
class Service:
    name: str
    argv: tuple[str, ...]  # as run on this host
    environment: Mapping[str, str]  # as written in the compose file
    mounts: Mapping[str, Path]  # container path -> repository path

    def env(self, values: Mapping[str, str], base: Mapping[str, str]) -> dict[str, str]:
        """`base` plus every variable the service sets: from `values` where the harness has one."""
        out = dict(base)
        for key, value in self.environment.items():
            out[key] = values[key] if key in values else str(interpolate(str(value), {}))
        return out

    def with_options(self, **options: str) -> list[str]:
        """argv with `--name value` options replaced (e.g. the gateway's host and port)."""
        argv = list(self.argv)
        for name, value in options.items():
            flag = "--" + name.replace("_", "-")
            argv[argv.index(flag) + 1] = value
        return argv


def service(name: str) -> Service:
    svc = _services()[name]
    mounts: dict[str, Path] = {}
    for volume in svc.get("volumes") or []:
        host, container = str(volume).split(":")[:2]
        if host.startswith("./"):  # a bind mount of a repository file or folder
            mounts[container] = REPO / host[2:]

    def on_host(arg: str) -> str:
        for container, host in mounts.items():
            if arg == container or arg.startswith(container + "/"):
                return str(host) + arg[len(container) :]
        return arg

    argv = [on_host(str(a)) for a in [*(svc.get("entrypoint") or []), *(svc.get("command") or [])]]
    if argv and argv[0] == "python":
        argv[0] = sys.executable
    elif argv and argv[0] == "therapybridge":
        argv = [sys.executable, "-m", "therapybridge.cli", *argv[1:]]
    env = {str(k): str(v) for k, v in (svc.get("environment") or {}).items()}
    return Service(name, tuple(argv), env, mounts)
