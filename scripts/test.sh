#!/usr/bin/env bash
# Runs the whole Anxin test suite on a fresh Debian/Ubuntu machine: installs the system parts the
# tests talk to (Mosquitto, Chromium, VictoriaMetrics, PostgreSQL when none is running), creates
# .venv, installs the project with both sides and its test, bench and check extras, then runs pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_system_packages test
ensure_axe
ensure_postgres
ensure_venv server,gateway,test,bench,check
# The checks that keep the shape (pyproject.toml configures them), before the suite: a finding fails the run.
echo "==> ruff check, ruff format --check, mypy (strict)"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
# With no test paths given (CI, the README), the unit tests run on both cores (pytest-xdist, a module per
# worker) and then everything else on one: those tests start brokers, servers and browsers and time their
# waits, and must not share the machine with each other. Given paths (or -k, -m), one ordinary run.
for arg in "$@"; do
  case "$arg" in
    tests* | *.py | *::* | -k | -m | -n*) exec .venv/bin/python -m pytest "$@" ;;
  esac
done
status=0
.venv/bin/python -m pytest -n 2 --dist loadfile tests/unit "$@" || status=$?
.venv/bin/python -m pytest --ignore=tests/unit "$@" || status=$?
exit "$status"
