#!/usr/bin/env python
"""Write `.env.example` from the settings themselves: every field of `therapybridge.settings.Settings`
with its environment variable, description, allowed values and default, grouped by the `# --- x ---`
sections of settings.py, after the deployment variables that docker-compose.yml interpolates.

    .venv/bin/python scripts/gen_env_example.py           # rewrite .env.example
    .venv/bin/python scripts/gen_env_example.py --check   # exit 1 if .env.example is stale

Every setting carries its `description=` in settings.py (one home); tests/deploy/test_deploy.py checks that
the file is complete and current.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
import textwrap
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pydantic.fields import FieldInfo  # noqa: E402

from therapybridge.settings import Settings  # noqa: E402

ENV_EXAMPLE = REPO / ".env.example"
COMPOSE_FILE = REPO / "docker-compose.yml"
TEMPORAL_VERSION = (REPO / "docker" / "temporal" / "VERSION").read_text().strip()
WIDTH = 100


# Settings that docker-compose.yml also interpolates, and what for.
COMPOSE_NOTES: dict[str, str] = {
    "temporal_address": "Model workers on other hosts: the Temporal host's address, e.g. 10.0.0.5:7233.",
    "temporal_namespace": "docker-compose.yml creates it and shows it first in the Temporal UI.",
    "temporal_ui_port": "docker-compose.yml publishes the Temporal UI on this host port (change "
    "TEMPORAL_UI_ORIGIN with it).",
    "temporal_ui_origin": "With docker-compose: the browser origin of the Temporal UI, e.g. https://temporal.example.org.",
    "io_task_queue": "The io worker's container health check reads it too.",
    "gpu_task_queue": "The model workers' container health check reads it too.",
}

# Settings a deployment should set explicitly: written uncommented, with an empty value to fill in.
SET_IN_PRODUCTION: dict[str, str] = {
    "secret_key": "Set it in production, the same on every API instance: "
    "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`.",
    "codec_keys": "Set it in production, the same for the API and every worker on every host: "
    "`echo k1:$(openssl rand -base64 32)`. Keep a copy: history encrypted with a lost key is unreadable.",
}


@dataclass(frozen=True)
class ComposeVar:
    name: str
    default: str
    doc: str
    active: bool = False  # written uncommented (value = default)


# Variables docker-compose.yml interpolates that are not settings of the application.
COMPOSE_VARS: list[ComposeVar] = [
    ComposeVar(
        "COMPOSE_PROFILES",
        "gpu",
        "Which model worker `docker compose up` starts: gpu (worker_gpu, one NVIDIA GPU) or cpu "
        "(worker_cpu, same image on CPU). Empty: none here (model workers run on other hosts).",
        active=True,
    ),
    ComposeVar(
        "POSTGRES_PASSWORD",
        "",
        "Required. Password of the bundled Postgres (app and Temporal databases). Letters and digits "
        "only: it becomes part of DATABASE_URL. E.g. `openssl rand -hex 24`.",
        active=True,
    ),
    ComposeVar("POSTGRES_USER", "therapybridge", "Postgres user (owner of every database)."),
    ComposeVar("POSTGRES_DB", "therapybridge", "Database of the application's tables."),
    ComposeVar(
        "PUBLIC_URL",
        "http://localhost:8000",
        "Where browsers reach the API (your TLS proxy's https URL in production). The Temporal UI calls "
        "the codec server at PUBLIC_URL/codec from the browser.",
    ),
    ComposeVar("API_BIND", "127.0.0.1", "Host address the API port is published on (0.0.0.0: all)."),
    ComposeVar("API_PORT", "8000", "Host port of the API and web app."),
    ComposeVar("TEMPORAL_UI_BIND", "127.0.0.1", "Host address the Temporal UI port is published on."),
    ComposeVar(
        "TEMPORAL_BIND",
        "127.0.0.1",
        "Host address Temporal's gRPC port 7233 is published on. A private address when gpu workers run "
        "on other hosts; never a public one (see docs/deploy.md).",
    ),
    ComposeVar(
        "TEMPORAL_CODEC_PASS_ACCESS_TOKEN",
        "false",
        "Temporal UI: send the UI's own OIDC access token to the codec server. Only with UI single "
        "sign-on whose tokens the API accepts; otherwise each operator pastes a token (docs/deploy.md).",
    ),
    ComposeVar(
        "TEMPORAL_CODEC_INCLUDE_CREDENTIALS",
        "false",
        "Temporal UI: send browser cookies with codec requests (for a proxy that authenticates by cookie).",
    ),
    ComposeVar(
        "TEMPORAL_VERSION",
        TEMPORAL_VERSION,
        "temporalio/server and temporalio/admin-tools image tag: docker/temporal/VERSION, the version the "
        "cluster tests build and run; its configuration (docker/temporal/) is written for it.",
    ),
    ComposeVar("TEMPORAL_UI_VERSION", "2.49.1", "temporalio/ui image tag."),
    ComposeVar(
        "TEMPORAL_RETENTION", "720h", "How long Temporal keeps a closed session workflow's history (namespace)."
    ),
    ComposeVar("TB_IMAGE", "therapybridge:latest", "Image name of the API / io worker (docker/Dockerfile.api)."),
    ComposeVar("TB_GPU_IMAGE", "therapybridge-gpu:latest", "Image name of the model worker (docker/Dockerfile.gpu)."),
    ComposeVar(
        "TB_DATA",
        "tbdata",
        "The shared /data volume (blob store, generated keys): a compose volume name, or a host path such "
        "as an NFS mount shared with gpu workers on other hosts (owned by uid 10001).",
    ),
]


def env_name(name: str, field: FieldInfo) -> str:
    alias = field.validation_alias if isinstance(field.validation_alias, str) else field.alias
    return (alias or name).upper()


def settings_env_names() -> dict[str, str]:
    """Environment variable -> field name, for every setting."""
    return {env_name(n, f): n for n, f in Settings.model_fields.items()}


def describe(name: str, field: FieldInfo) -> str:
    if not field.description:
        raise SystemExit(f"settings.py: give `{name}` a description= (it becomes its .env.example entry)")
    return field.description


def format_default(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Path):
        s = str(value)
        return s if value.is_absolute() or s.startswith(".") else f"./{s}"
    return str(value)


def allowed_values(field: FieldInfo) -> list[str]:
    if typing.get_origin(field.annotation) is typing.Literal:
        return [str(v) for v in typing.get_args(field.annotation)]
    return []


def sections() -> dict[str, str]:
    """Field name -> section title, from the `# --- title ---` comments in the Settings class."""
    current, out = "general", {}
    for line in inspect.getsource(Settings).splitlines():
        if m := re.match(r"\s*# -+ (.+?) -+\s*$", line):
            current = m.group(1).strip()
        elif (m := re.match(r"    (\w+)\s*:", line)) and m.group(1) in Settings.model_fields:
            out[m.group(1)] = current
    return out


def compose_overrides() -> dict[str, set[str]]:
    """Variable -> TherapyBridge services of docker-compose.yml whose `environment:` sets it (the
    services built from docker/Dockerfile.*; the other images' variables are their own)."""
    import yaml

    if not COMPOSE_FILE.exists():
        return {}
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    out: dict[str, set[str]] = {}
    for svc_name, svc in (data.get("services") or {}).items():
        build = svc.get("build") or {}
        if "docker/Dockerfile." not in (build.get("dockerfile", "") if isinstance(build, dict) else ""):
            continue
        env = svc.get("environment") or {}
        keys = env.keys() if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]
        for key in keys:
            out.setdefault(key, set()).add(svc_name)
    return out


def comment(text: str) -> list[str]:
    wrapped = textwrap.wrap(
        text, WIDTH, initial_indent="# ", subsequent_indent="# ", break_on_hyphens=False, break_long_words=False
    )
    return wrapped or ["#"]


def render() -> str:
    lines = [
        "# TherapyBridge configuration: copy to `.env` beside docker-compose.yml and fill in the values marked",
        "# Required. Generated by scripts/gen_env_example.py from therapybridge/settings.py and",
        "# docker-compose.yml: edit those and regenerate, not this file.",
        "#",
        "# Lines starting with `# NAME=` show a default; uncomment to change it. The application reads the",
        "# same names from its environment (docker-compose passes this file to the app containers) or from",
        "# a `.env` file in its working directory. See docs/deploy.md.",
        "",
        "# " + "=" * (WIDTH - 2),
        "# Deployment (docker-compose.yml)",
        "# " + "=" * (WIDTH - 2),
        "",
    ]
    for var in COMPOSE_VARS:
        lines += comment(var.doc)
        lines.append(f"{'' if var.active else '# '}{var.name}={var.default}")
        lines.append("")

    lines += ["# " + "=" * (WIDTH - 2), "# Application settings (therapybridge/settings.py)", "# " + "=" * (WIDTH - 2)]
    overrides = compose_overrides()
    titles = sections()
    last_section = None
    for name, field in Settings.model_fields.items():
        section = titles.get(name, "general")
        if section != last_section:
            lines += ["", f"# --- {section} " + "-" * max(3, WIDTH - 8 - len(section))]
            last_section = section
        var = env_name(name, field)
        doc = describe(name, field)
        if choices := allowed_values(field):
            doc += f" One of: {', '.join(choices)}."
        default = format_default(field.default)
        doc += f" Default: {default}." if default != "" else " Default: empty."
        if name in COMPOSE_NOTES:
            doc += " " + COMPOSE_NOTES[name]
        if name in SET_IN_PRODUCTION:
            doc += " " + SET_IN_PRODUCTION[name]
        if var in overrides:
            doc += f" docker-compose.yml sets it for {', '.join(sorted(overrides[var]))}."
        lines.append("")
        lines += comment(doc)
        if name in SET_IN_PRODUCTION:
            lines.append(f"{var}=")
        else:
            lines.append(f"# {var}={default}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if .env.example differs from the output")
    parser.add_argument("--output", type=Path, default=ENV_EXAMPLE)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run scripts/gen_env_example.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    print(f"wrote {args.output} ({len(Settings.model_fields)} settings, {len(COMPOSE_VARS)} deployment variables)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
