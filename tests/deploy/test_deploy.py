"""The production deployment, checked without a Docker engine.

- docker-compose.yml parses, interpolates like Compose does, and validates against the Compose
  specification's JSON schema (the copy vendored by check-jsonschema); references between services,
  volumes, profiles and files hold.
- Every command a container runs exists in the installed package (modules, console script and its
  options), and the images install that package the way these tests build it.
- Every environment variable the compose file sets for TherapyBridge containers is a setting, and
  .env.example documents every setting and every compose variable (and is current).
- The container health check and the Temporal namespace step work against a real Temporal server.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import importlib.util
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
import yaml
from dotenv import dotenv_values

from tests.support.compose import MissingVariable, compose_variables, interpolate
from tests.support.harness import REPO, temporal_cli
from therapybridge import search_attributes
from therapybridge.settings import Settings

COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILES = {"api": REPO / "docker" / "Dockerfile.api", "gpu": REPO / "docker" / "Dockerfile.gpu"}
LONG_RUNNING = {"postgres", "temporal", "temporal-ui", "api", "worker_io", "worker_gpu", "worker_cpu"}
ONE_SHOT = {"temporal-schema", "temporal-namespace"}


def _load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


gen_env = _load_module(REPO / "scripts" / "gen_env_example.py", "gen_env_example")
healthcheck = _load_module(REPO / "docker" / "healthcheck.py", "tb_healthcheck")


# --------------------------------------------------------------------------- compose interpolation


def example_env() -> dict[str, str]:
    """What an operator's .env is after `cp .env.example .env` and filling in the required values."""
    env = {k: v or "" for k, v in dotenv_values(ENV_EXAMPLE).items()}
    env["POSTGRES_PASSWORD"] = "s3cr3tpw"
    return env


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any]) -> dict[str, Any]:
    return interpolate(raw, example_env())


def app_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run a TherapyBridge image (built from docker/Dockerfile.*)."""
    return {
        name: svc
        for name, svc in compose["services"].items()
        if isinstance(svc.get("build"), dict) and svc["build"].get("dockerfile", "").startswith("docker/Dockerfile.")
    }


def env_keys(svc: dict[str, Any]) -> list[str]:
    env = svc.get("environment") or {}
    return list(env) if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]


# --------------------------------------------------------------------------- compose: schema, structure


def test_compose_validates_against_the_compose_specification(raw: dict[str, Any], compose: dict[str, Any]) -> None:
    schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    for label, doc in (("as written", raw), ("interpolated", compose)):
        errors = sorted(validator_cls(schema).iter_errors(doc), key=lambda e: list(e.absolute_path))
        assert not errors, f"{label}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
        )


def test_compose_schema_check_catches_mistakes(raw: dict[str, Any]) -> None:
    """The schema check is not vacuous: a misspelt key and a wrong type fail it."""
    schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    bad = json.loads(json.dumps(raw))
    bad["services"]["api"]["healthcheck"]["intervall"] = "5s"
    assert not validator.is_valid(bad)
    bad = json.loads(json.dumps(raw))
    bad["services"]["api"]["depends_on"] = "postgres"
    assert not validator.is_valid(bad)


def test_postgres_password_is_required(raw: dict[str, Any]) -> None:
    env = example_env()
    env["POSTGRES_PASSWORD"] = ""
    with pytest.raises(MissingVariable, match="POSTGRES_PASSWORD"):
        interpolate(raw, env)


def test_services_references_hold(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "temporal", "temporal-ui", "api", "worker_io", "worker_gpu"} <= set(services)
    declared_volumes = set(compose.get("volumes") or {})
    for name, svc in services.items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            assert not services[dep].get("profiles"), f"{name} depends on {dep}, which only runs in a profile"
            if dep in ONE_SHOT:
                assert cond["condition"] == "service_completed_successfully", (name, dep)
            else:
                assert cond["condition"] == "service_healthy", (name, dep)
                assert "healthcheck" in services[dep], f"{name} waits for {dep}'s health, which has no check"
        for vol in svc.get("volumes") or []:
            source = vol.split(":", 1)[0] if isinstance(vol, str) else vol.get("source", "")
            if source.startswith(("./", "/", "../")):
                if source.startswith("./"):
                    assert (REPO / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared_volumes, f"{name} uses undeclared volume {source}"
        build = svc.get("build")
        if build:
            assert (REPO / build["context"] / build["dockerfile"]).is_file(), (name, build)


def test_health_checks_and_restart_policies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == LONG_RUNNING | ONE_SHOT, "classify new services in this test"
    for name in LONG_RUNNING:
        svc = services[name]
        assert svc.get("restart") in ("unless-stopped", "always"), name
        assert svc.get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name in ONE_SHOT:
        assert services[name].get("restart", "").startswith("on-failure"), name


def test_gpu_worker_reserves_an_nvidia_gpu_in_a_profile(compose: dict[str, Any]) -> None:
    gpu = compose["services"]["worker_gpu"]
    assert gpu["profiles"] == ["gpu"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert gpu["environment"]["ASR_DEVICE"] == "cuda"
    cpu = compose["services"]["worker_cpu"]
    assert cpu["profiles"] == ["cpu"] and "deploy" not in cpu
    assert cpu["environment"]["ASR_DEVICE"] == "cpu"
    # Nothing else hides in a profile: a CPU-only host leaves out exactly the model worker.
    profiled = {n for n, s in compose["services"].items() if s.get("profiles")}
    assert profiled == {"worker_gpu", "worker_cpu"}


def test_blob_store_volume_is_shared(compose: dict[str, Any]) -> None:
    for name, svc in app_services(compose).items():
        assert "tbdata:/data" in svc["volumes"], name
        assert svc["environment"]["THERAPYBRIDGE_DATA_DIR"] == "/data", name


def test_temporal_ui_uses_the_api_codec_server(compose: dict[str, Any]) -> None:
    ui = compose["services"]["temporal-ui"]["environment"]
    assert ui["TEMPORAL_CODEC_ENDPOINT"] == "http://localhost:8000/codec"
    assert ui["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] in ("true", "false")
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"  # it sends the admin's codec cookie
    assert ui["TEMPORAL_ADDRESS"] == "temporal:7233"
    api = compose["services"]["api"]
    # The codec endpoints allow the UI's browser origin (CORS): the published UI port.
    ui_port = compose["services"]["temporal-ui"]["ports"][0].split(":")[1]
    assert api["environment"]["TEMPORAL_UI_ORIGIN"] == f"http://localhost:{ui_port}"
    assert api["ports"][0].split(":")[1] == "8000"


def test_temporal_is_backed_by_the_compose_postgres(compose: dict[str, Any]) -> None:
    services = compose["services"]
    temporal = services["temporal"]["environment"]
    pg = services["postgres"]["environment"]
    assert temporal["POSTGRES_SEEDS"] == "postgres"
    assert temporal["POSTGRES_USER"] == pg["POSTGRES_USER"]
    assert temporal["POSTGRES_PWD"] == pg["POSTGRES_PASSWORD"] == "s3cr3tpw"
    assert services["temporal-schema"]["environment"]["SQL_PASSWORD"] == pg["POSTGRES_PASSWORD"]
    for name in ("api", "worker_io"):
        url = services[name]["environment"]["DATABASE_URL"]
        assert url == f"postgresql://{pg['POSTGRES_USER']}:s3cr3tpw@postgres:5432/{pg['POSTGRES_DB']}", name
        assert Settings(database_url=url).resolved_database_url.startswith("postgresql+asyncpg://")


def test_temporal_server_runs_the_tested_configuration(compose: dict[str, Any]) -> None:
    """The compose file's Temporal server is the one the cluster tests run (tests/deploy/cluster/): the version
    they build, the config folder mounted whole and started by its start.sh, and every variable it sets
    read by the config template."""
    services = compose["services"]
    version = (REPO / "docker" / "temporal" / "VERSION").read_text().strip()
    for name in ("temporal", "temporal-schema", "temporal-namespace"):
        assert services[name]["image"].endswith(f":{version}"), name
    temporal = services["temporal"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in temporal["volumes"]}
    assert mounts == {"/etc/temporal/therapybridge": "./docker/temporal"}
    assert temporal["entrypoint"] == ["/bin/sh", "/etc/temporal/therapybridge/start.sh"]
    template = (REPO / "docker" / "temporal" / "therapybridge.yaml").read_text()
    assert template.startswith("# enable-template")
    for var in temporal["environment"]:
        assert f'env "{var}"' in template, var
    # ... and every port the cluster tests move (they run several servers' worth of ports on one host).
    from tests.support.cluster import TemporalServer

    for var in TemporalServer.PORTS:
        assert f'env "{var}"' in template, var


def test_the_cluster_harness_runs_the_compose_services() -> None:
    """tests/deploy/cluster/ takes each process's command and variables from docker-compose.yml itself
    (tests/support/topology.py), so the tested topology is the compose file's. Here, without a cluster:
    every command resolves on this host (mounted scripts are repository files, modules exist) and the
    harness has a value for every variable compose requires of the app services."""
    from tests.support.cluster import APP_VALUES
    from tests.support.topology import HARNESS_SERVICES, service

    for name in HARNESS_SERVICES:
        svc = service(name)
        assert all(path.exists() for path in svc.mounts.values()), name
        if name == "temporal-ui":  # the image's own entrypoint (`ui-server --env docker start`): TemporalUI
            assert not svc.argv
        elif svc.argv[0] == sys.executable:
            assert svc.argv[1] == "-m" and importlib.util.find_spec(svc.argv[2]), name
        else:
            assert svc.argv[0] == "/bin/sh" and Path(svc.argv[1]).is_file(), (name, svc.argv)
            assert Path(svc.argv[1]).is_relative_to(REPO), name
    assert service("api").with_options(host="127.0.0.1", port="1")[-4:] == ["--host", "127.0.0.1", "--port", "1"]
    for name in ("api", "worker_io", "worker_cpu"):
        required = {k for k, v in service(name).environment.items() if ":?" in v}
        assert required <= set(APP_VALUES), name
    # The UI the harness builds (scripts/setup.sh) is the version of compose's temporalio/ui image.
    ui_version = (REPO / "docker" / "temporal" / "UI_VERSION").read_text().strip()
    assert f"temporalio/ui:${{TEMPORAL_UI_VERSION:-{ui_version}}}" in COMPOSE.read_text()
    assert {v.name: v.default for v in gen_env.COMPOSE_VARS}["TEMPORAL_UI_VERSION"] == ui_version


def test_temporal_dynamic_config_is_well_formed() -> None:
    data = yaml.safe_load((REPO / "docker" / "temporal" / "dynamicconfig.yaml").read_text())
    assert isinstance(data, dict) and data
    for key, entries in data.items():
        assert isinstance(entries, list) and entries, key
        for entry in entries:
            assert set(entry) <= {"value", "constraints"} and "value" in entry, key


# --------------------------------------------------------------------------- commands exist


def _check_command(argv: list[str], where: str) -> None:
    if argv[:2] == ["python", "-m"]:
        module = argv[2]
        assert module.startswith("therapybridge."), where
        spec = importlib.util.find_spec(module)
        assert spec is not None, f"{where}: no module {module}"
        if spec.submodule_search_locations:  # a package: runnable only with a __main__
            assert importlib.util.find_spec(module + ".__main__"), f"{where}: {module} has no __main__"
    elif argv[0] == "therapybridge":
        scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
        assert scripts.get("therapybridge") == "therapybridge.cli:entry", where
        from therapybridge.cli.app import build_parser

        try:
            build_parser().parse_args(argv[1:])
        except SystemExit as exc:
            pytest.fail(f"{where}: `{shlex.join(argv)}` is not a valid therapybridge command ({exc})")
    elif argv[0] == "tb-healthcheck":
        healthcheck.build_parser().parse_args(argv[1:])
    else:
        pytest.fail(f"{where}: unexpected command {argv}")


def test_every_service_command_exists(compose: dict[str, Any]) -> None:
    for name, svc in app_services(compose).items():
        _check_command(svc["command"], f"service {name}")
        test = svc["healthcheck"]["test"]
        assert test[0] == "CMD", name
        _check_command(test[1:], f"service {name} health check")


def _dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_dockerfile_cmd_and_copies(kind: str) -> None:
    path = DOCKERFILES[kind]
    instructions = _dockerfile_instructions(path)
    cmd = [json.loads(rest) for word, rest in instructions if word == "CMD"][-1]
    _check_command(cmd, f"{path.name} CMD")
    users = [rest for word, rest in instructions if word == "USER"]
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    for word, rest in instructions:
        if word == "FROM":
            image = rest.split()[0]
            assert ":" in image and not image.endswith(":latest"), f"unpinned base image {image}"
        if word == "COPY" and "--from=" not in rest:
            *sources, _dest = [p for p in rest.split() if not p.startswith("--")]
            for src in sources:
                assert (REPO / src).exists(), f"{path.name} copies missing {src}"
    # The build context is the repository root: a Dockerfile-specific ignore file keeps .venv, data and
    # local .env files out of it.
    ignore = [ln.strip() for ln in path.with_name(path.name + ".dockerignore").read_text().splitlines()]
    ignore = [ln for ln in ignore if ln and not ln.startswith("#")]
    assert ignore[0] == "*", "allow-list ignore file: everything is excluded first"
    allowed = {line[1:].strip().rstrip("/") for line in ignore if line.startswith("!")}
    for word, rest in instructions:
        if word == "COPY" and "--from=" not in rest:
            *sources, _dest = [p for p in rest.split() if not p.startswith("--")]
            for src in sources:
                assert src.rstrip("/") in allowed, f"{path.name} copies {src}, which its .dockerignore excludes"


def test_images_install_the_package_with_the_web_app_and_migrations(tmp_path: Path) -> None:
    """Build the wheel from exactly what the Dockerfiles copy (pyproject.toml + therapybridge/)."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(REPO / "pyproject.toml", src)
    shutil.copytree(REPO / "therapybridge", src / "therapybridge", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), "."],
        cwd=src,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("therapybridge-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "therapybridge/worker_io/__main__.py" in names
    assert "therapybridge/worker_gpu/__main__.py" in names
    assert "therapybridge/api/static/index.html" in names, "the web app must ship in the package"
    assert "therapybridge/api/static/js/app.js" in names
    assert any(n.startswith("therapybridge/migrations/versions/") for n in names)
    assert "therapybridge/data/behaviour.npz" in names, "the skill classifier's weights must ship (issue 17)"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "therapybridge = therapybridge.cli:entry" in zipfile.ZipFile(wheel).read(entry_points).decode()


# --------------------------------------------------------------------------- environment variables


def test_every_variable_set_for_app_containers_is_a_setting(compose: dict[str, Any]) -> None:
    known = set(gen_env.settings_env_names())
    for name, svc in app_services(compose).items():
        unknown = set(env_keys(svc)) - known
        assert not unknown, f"{name} sets {sorted(unknown)}, which therapybridge/settings.py does not know"


def test_env_example_is_complete_and_current() -> None:
    assert gen_env.render() == ENV_EXAMPLE.read_text(), ".env.example is stale: run scripts/gen_env_example.py"
    text = ENV_EXAMPLE.read_text()
    documented = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", text, flags=re.M))
    settings_vars = set(gen_env.settings_env_names())
    assert settings_vars <= documented, f"undocumented settings: {sorted(settings_vars - documented)}"
    compose_vars = {v.name for v in gen_env.COMPOSE_VARS}
    assert documented == settings_vars | compose_vars
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description in settings.py"


def test_compose_variables_are_documented_and_used() -> None:
    used = compose_variables(COMPOSE.read_text())
    compose_vars = {v.name for v in gen_env.COMPOSE_VARS}
    settings_vars = set(gen_env.settings_env_names())
    assert used - {"COMPOSE_PROFILES"} <= compose_vars | settings_vars, (
        f"docker-compose.yml uses undocumented variables {sorted(used - compose_vars - settings_vars)}"
    )
    unused = compose_vars - used - {"COMPOSE_PROFILES"}
    assert not unused, f".env.example documents compose variables docker-compose.yml does not use: {unused}"


def test_env_example_loads_into_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The values an operator gets by copying the example are valid settings (and the compose-only
    variables in the same file are ignored by the application)."""
    for var in gen_env.settings_env_names():
        monkeypatch.delenv(var, raising=False)
    s = Settings(_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]
    assert s.secret_key == "" and s.codec_keys == ""
    commented = dict(re.findall(r"^# ([A-Z][A-Z0-9_]*)=(.*)$", ENV_EXAMPLE.read_text(), flags=re.M))
    env_file = tmp_path / "all.env"
    env_file.write_text("\n".join(f"{k}={v}" for k, v in commented.items()) + "\n")
    Settings(_env_file=env_file)  # type: ignore[call-arg]  # every shown default parses


# --------------------------------------------------------------------------- against a real Temporal


async def test_worker_health_check_sees_this_hosts_workers(stack: Any) -> None:
    s = stack.settings
    hostname = socket.gethostname()
    deadline = time.monotonic() + 180  # the gpu worker loads its models before it polls
    results: dict[str, tuple[bool, str]] = {}
    while time.monotonic() < deadline:
        results = {
            q: await asyncio.to_thread(
                healthcheck.check_worker, q, s.temporal_address, s.temporal_namespace, hostname, 5.0
            )
            for q in (s.io_task_queue, s.gpu_task_queue)
        }
        if all(ok for ok, _ in results.values()):
            break
        await asyncio.sleep(2)
    assert all(ok for ok, _ in results.values()), results
    ok, detail = await asyncio.to_thread(
        healthcheck.check_worker, s.io_task_queue, s.temporal_address, s.temporal_namespace, "another-host", 5.0
    )
    assert not ok and "another-host" in detail
    ok, _ = await asyncio.to_thread(
        healthcheck.check_worker, "nobody-polls-this", s.temporal_address, s.temporal_namespace, hostname, 5.0
    )
    assert not ok
    ok, detail = await asyncio.to_thread(
        healthcheck.check_worker, s.io_task_queue, "127.0.0.1:1", "default", hostname, 2.0
    )
    assert not ok and "cannot ask Temporal at 127.0.0.1:1" in detail and "running event loop" not in detail
    # The script's exit status is what Docker reads.
    run = subprocess.run(
        [sys.executable, str(REPO / "docker" / "healthcheck.py"), "worker", s.io_task_queue],
        env={**os.environ, "TEMPORAL_ADDRESS": s.temporal_address},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_namespace_setup_step_is_idempotent(stack: Any) -> None:
    """docker/temporal-setup.sh namespace, with the same CLI the admin-tools image carries."""
    cli_dir = str(Path(temporal_cli()).parent)
    env = {
        **os.environ,
        "PATH": f"{cli_dir}:{os.environ['PATH']}",
        "TEMPORAL_ADDRESS": stack.settings.temporal_address,
        "TEMPORAL_NAMESPACE": "deploy-test",
        "TEMPORAL_RETENTION": "48h",
    }
    script = str(REPO / "docker" / "temporal-setup.sh")
    first = subprocess.run(["sh", script, "namespace"], env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "created" in first.stdout
    for key in search_attributes.KEYS:  # the session search attributes, registered in the new namespace
        assert f"search attribute {key.name} created" in first.stdout, first.stdout
    second = subprocess.run(["sh", script, "namespace"], env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0 and "exists" in second.stdout, second.stdout + second.stderr
    assert all(f"search attribute {key.name} exists" in second.stdout for key in search_attributes.KEYS)
    listed = subprocess.run(
        [temporal_cli(), "operator", "search-attribute", "list", "--address", env["TEMPORAL_ADDRESS"],
         "-n", "deploy-test"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    rows = {tuple(line.split()) for line in listed.stdout.splitlines()}
    assert {(key.name, search_attributes.TYPE) for key in search_attributes.KEYS} <= rows, listed.stdout
    described = subprocess.run(
        [
            temporal_cli(),
            "operator",
            "namespace",
            "describe",
            "--address",
            env["TEMPORAL_ADDRESS"],
            "-n",
            "deploy-test",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "48h" in described.stdout
    bad = subprocess.run(["sh", script, "bogus"], env=env, capture_output=True, text=True, timeout=10)
    assert bad.returncode == 2


def test_setup_script_registers_the_workflows_search_attributes() -> None:
    """docker/temporal-setup.sh's default list is the one therapybridge/search_attributes.py names."""
    script = (REPO / "docker" / "temporal-setup.sh").read_text()
    assert f"TEMPORAL_SEARCH_ATTRIBUTES:-{search_attributes.setup_script_list()}}}" in script


def test_http_health_check() -> None:
    ok, detail = healthcheck.check_http("http://127.0.0.1:1/", 1.0)
    assert not ok and "unreachable" in detail


def test_api_health_check_reads_the_report() -> None:
    """503 with the database down is unhealthy; 503 with only the workers missing is healthy."""
    import http.server
    import threading

    reports = {
        "/db-down": {"database": {"ok": False}, "temporal": {"ok": True}, "task_queues": {}},
        "/no-workers": {
            "database": {"ok": True},
            "temporal": {"ok": True},
            "task_queues": {"therapybridge-gpu": {"ok": False, "detail": "no worker is polling"}},
        },
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"status": "unavailable", **reports[self.path]}).encode()
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert healthcheck.check_api(base + "/db-down", 5.0) == (False, "down: database")
        assert healthcheck.check_api(base + "/no-workers", 5.0)[0]
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- docs


def test_deploy_doc_links_resolve() -> None:
    doc = REPO / "docs" / "deploy.md"
    text = doc.read_text()
    for target in re.findall(r"\]\(([^)#\s]+)\)", text):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (doc.parent / target).resolve().exists(), f"docs/deploy.md links to missing {target}"
    for service in ("api", "worker_io", "worker_gpu", "temporal-ui"):
        assert service in text
