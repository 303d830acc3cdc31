#!/usr/bin/env bash
# Sets up .venv and runs the simulated installation on embedded defaults (no broker or database
# to install). Extra arguments go to `anxin-sim demo`, e.g. --scenario sos --exit-after 20.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_venv server,gateway
exec .venv/bin/anxin-sim demo "$@"
