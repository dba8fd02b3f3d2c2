"""docker-compose.yml as Compose reads it: its variable interpolation, shared by tests/deploy/test_deploy.py and
the cluster harness (tests/support/topology.py), which runs the services the file declares."""

from __future__ import annotations

import re
from typing import Any

_VAR = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>(?:[^{}]|\{[^{}]*\})*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


class MissingVariable(Exception):
    pass


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's variable interpolation: $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e},
    ${VAR:+r}, ${VAR+r} and $$ (a literal $), applied to every string value."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group("name") or m.group("bare")
        op, arg = m.group("op"), m.group("arg") or ""
        val = env.get(name)
        empty = not val
        if op in (":-", "-"):
            use_default = empty if op == ":-" else val is None
            return interpolate(arg, env) if use_default else str(val)
        if op in (":?", "?"):
            if empty if op == ":?" else val is None:
                raise MissingVariable(f"{name}: {arg}")
            return str(val)
        if op in (":+", "+"):
            return interpolate(arg, env) if not (empty if op == ":+" else val is None) else ""
        return val or ""

    return _VAR.sub(sub, value)


def compose_variables(text: str) -> set[str]:
    return {m.group("name") or m.group("bare") for m in _VAR.finditer(text) if m.group(0) != "$$"}
