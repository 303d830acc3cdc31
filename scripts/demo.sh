#!/usr/bin/env bash
# Sets up .venv and runs the simulated installation on embedded defaults (no broker or database
# to install; --scenario cluster installs nats-server). Extra arguments go to `anxin-sim demo`, e.g.
# --scenario sos --exit-after 20.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_venv server,gateway
# Only `--scenario cluster` needs something installed: Debian's nats-server (three nodes of it).
if [[ " $* " == *" --scenario cluster "* || " $* " == *" --scenario=cluster "* ]]; then
  command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || apt_install nats-server
fi
exec .venv/bin/anxin-sim demo "$@"
