#!/bin/sh
# One-shot Temporal setup steps for docker-compose.yml, run in the temporalio/admin-tools image.
#   temporal-setup.sh schema      create (or upgrade) Temporal's two Postgres databases; before the server
#   temporal-setup.sh namespace   register TEMPORAL_NAMESPACE and the session search attributes
#                                 (TEMPORAL_SEARCH_ATTRIBUTES) if missing; after the server is up
# Both are idempotent: `docker compose up` runs them on every start, and an upgraded image's schema
# changes are applied by the `schema` step before the new server starts.
# The cluster tests (tests/deploy/cluster/) and the systemd deployment (docs/deploy.md) run this same script
# outside the image, with TEMPORAL_SQL_TOOL, TEMPORAL_SCHEMA_DIR and TEMPORAL_CLI pointing at the
# binaries `scripts/setup.sh` builds (the defaults are the admin-tools image's paths).
set -eu

step="${1:?usage: temporal-setup.sh schema|namespace}"

case "$step" in
schema)
  : "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
  port="${DB_PORT:-5432}"
  schema_root="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"
  sql_tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
  for db in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
    name="${db%%:*}"
    kind="${db#*:}"
    tool="$sql_tool --plugin postgres12 --ep $POSTGRES_SEEDS -u $POSTGRES_USER -p $port --db $name"
    echo "temporal-setup: database $name"
    # `create` fails when the database exists already: that is the normal case after the first start.
    $tool create 2>/dev/null || echo "temporal-setup: $name exists"
    $tool setup-schema -v 0.0
    $tool update-schema -d "$schema_root/$kind/versioned"
  done
  echo "temporal-setup: schema ready"
  ;;
namespace)
  ns="${TEMPORAL_NAMESPACE:-default}"
  retention="${TEMPORAL_RETENTION:-720h}"
  addr="${TEMPORAL_ADDRESS:-temporal:7233}"
  cli="${TEMPORAL_CLI:-temporal}"
  tries=0
  until $cli operator cluster health --address "$addr" >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 30 ] || { echo "temporal-setup: server at $addr not healthy" >&2; exit 1; }
    sleep 2
  done
  if $cli operator namespace describe --address "$addr" --namespace "$ns" >/dev/null 2>&1; then
    echo "temporal-setup: namespace $ns exists"
  else
    $cli operator namespace create --address "$addr" --namespace "$ns" --retention "$retention"
    echo "temporal-setup: namespace $ns created (retention $retention)"
  fi
  # The session workflow's search attributes: therapybridge/search_attributes.py names them and
  # tests/deploy checks this default against it. `create` fails on an existing one: create the missing.
  attrs="${TEMPORAL_SEARCH_ATTRIBUTES:-SessionStage=Keyword SessionStatus=Keyword}"
  listed() {
    out="$($cli operator search-attribute list --address "$addr" --namespace "$ns")" || return 1
    printf '%s\n' "$out" | awk '{print $1}'
  }
  tries=0
  until listed >/dev/null 2>&1; do  # a new namespace is unknown until the server's cache refreshes (~10 s)
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { echo "temporal-setup: cannot list search attributes of $ns" >&2; exit 1; }
    sleep 1
  done
  for pair in $attrs; do
    name="${pair%%=*}"
    if listed | grep -qx "$name"; then
      echo "temporal-setup: search attribute $name exists"
      continue
    fi
    $cli operator search-attribute create --address "$addr" --namespace "$ns" --name "$name" --type "${pair#*=}"
    tries=0
    until listed | grep -qx "$name"; do  # the server lists it once its cache has refreshed
      tries=$((tries + 1))
      [ "$tries" -lt 60 ] || { echo "temporal-setup: search attribute $name not listed" >&2; exit 1; }
      sleep 1
    done
    echo "temporal-setup: search attribute $name created"
  done
  ;;
*)
  echo "usage: temporal-setup.sh schema|namespace" >&2
  exit 2
  ;;
esac
