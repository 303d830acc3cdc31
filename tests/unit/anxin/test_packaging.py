"""A Pi installs `.[gateway]`: the gateway never imports what only the server needs, and the wheel
carries neither the test helpers nor the offline fall tooling (docs/decisions.md, issue 23)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[3]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
EXTRAS = PROJECT["project"]["optional-dependencies"]

# Imports the other side's extra, or code the wheel does not carry, make fail in the child process.
BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not installed with this extra")
sys.meta_path.insert(0, Block())
"""


def modules_of(extra: str) -> set[str]:
    """The top-level modules the distributions of an extra install."""
    wanted = {d.split(">")[0].split("<")[0].split("[")[0].strip().lower().replace("_", "-") for d in EXTRAS[extra]}
    return {
        module
        for module, dists in packages_distributions().items()
        if any(d.lower().replace("_", "-") in wanted for d in dists)
    }


def imports_without(blocked: set[str], code: str) -> subprocess.CompletedProcess[str]:
    script = f"BLOCKED = {sorted(blocked)!r}\n{BLOCKER}\n{code}"
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_extras_split_the_dependencies_by_side() -> None:
    base = set(PROJECT["project"]["dependencies"])
    assert not base & set(EXTRAS["gateway"]) and not base & set(EXTRAS["server"])
    assert not set(EXTRAS["gateway"]) & set(EXTRAS["server"])
    assert len(base) + len(EXTRAS["gateway"]) < 12  # a Pi's install, against the server's 25


def test_every_gateway_module_imports_without_the_server_extra_or_unshipped_code() -> None:
    blocked = modules_of("server") | {"server", "tests", "bench", "falls_eval", "sklearn"}
    assert {"fastapi", "sqlalchemy", "amqtt"} <= blocked
    proc = imports_without(
        blocked,
        """
import importlib, pkgutil, gateway
for m in pkgutil.walk_packages(gateway.__path__, "gateway."):
    if not m.name.endswith("__main__"):
        importlib.import_module(m.name)
from gateway.cli import build_parser
build_parser()
""",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_the_server_starts_without_the_gateway_extra() -> None:
    blocked = modules_of("gateway")
    assert {"serial", "gpiozero"} <= blocked
    proc = imports_without(blocked, "import server.cli, server.runtime, server.api.app")
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_the_wheel_carries_no_test_helpers_or_offline_tooling() -> None:
    include = PROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = set(find_packages(str(ROOT), include=include))
    assert {"anxin", "gateway", "gateway.falls", "server"} <= packages
    assert not {p for p in packages if p.split(".")[0] in ("tests", "bench", "falls_eval")}
    assert not (ROOT / "anxin" / "testing.py").exists()
