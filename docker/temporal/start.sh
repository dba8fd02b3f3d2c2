#!/bin/sh
# Starts the Temporal server with the configuration in this folder (therapybridge.yaml, a template
# filled from the environment; dynamicconfig.yaml). One script for every way TherapyBridge runs the
# real server: docker-compose.yml (the temporalio/server image), the systemd unit of docs/deploy.md and
# the cluster tests (tests/deploy/cluster/), so all three run the same configuration.
#   TEMPORAL_SERVER   the server binary (default: temporal-server on PATH, as in the image)
#   BIND_ON_IP        the address the four services listen on (default 127.0.0.1; 0.0.0.0 in a container)
set -eu
dir="$(cd "$(dirname "$0")" && pwd)"
if [ "${BIND_ON_IP:-127.0.0.1}" = "0.0.0.0" ] && [ -z "${TEMPORAL_BROADCAST_ADDRESS:-}" ]; then
  # Bound to every interface, the services must still tell each other one reachable address.
  TEMPORAL_BROADCAST_ADDRESS="$(getent hosts "$(hostname)" | awk '{print $1; exit}')"
  export TEMPORAL_BROADCAST_ADDRESS
fi
: "${DYNAMIC_CONFIG_FILE_PATH:=$dir/dynamicconfig.yaml}"
export DYNAMIC_CONFIG_FILE_PATH
exec "${TEMPORAL_SERVER:-temporal-server}" --root "$dir" --config . --env therapybridge start
