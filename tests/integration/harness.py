"""Builders for in-process installations on real brokers, shared by the integration tests."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import httpx

from anxin.mqtt import BrokerAddress
from anxin.ports import free_port
from firmware_sim.installation import SimHome, build_home, demo_provision, gateway_settings
from server.gateway_credentials import issue_missing
from server.provision import apply
from server.runtime import ServerRuntime, build_runtime
from server.settings import ServerSettings


def start_server(
    tmp_path: Path, central: BrokerAddress, database_url: str | None = None, **overrides: object
) -> ServerRuntime:
    """A server on an external broker, SQLite in tmp_path unless a URL is given."""
    settings = ServerSettings(
        port=free_port(),
        embedded_broker=False,
        mqtt=central,
        database_url=database_url or f"sqlite:///{tmp_path}/server.db",
        secret_key="test-secret-of-16-chars",
        **overrides,
    )
    runtime = build_runtime(settings)
    runtime.start()
    return runtime


def provision(server: ServerRuntime, homes: int, notify_urls: list[str]) -> dict[str, str]:
    """Residents, caregivers and gateways of the demo layout; returns each gateway's broker password."""
    with server.services.sessions() as s, s.begin():
        apply(s, demo_provision(homes, notify_urls))
        return issue_missing(s)


def start_home(
    tmp_path: Path, local: BrokerAddress, central: BrokerAddress, index: int = 0, password: str | None = None
) -> SimHome:
    """Home number `index` (gateway gw-r00N) on the given brokers (`password`: its central broker login)."""
    code = f"R{index + 1:03d}"
    home = build_home(gateway_settings(f"gw-{code.lower()}", code, local, central, tmp_path / "gw", password))
    home.start()
    return home


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.02) -> bool:
    """Poll until the predicate is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


@lru_cache(maxsize=64)
def auth_headers(base_url: str, username: str = "admin", password: str = "anxin-demo") -> dict[str, str]:
    """Sign in to a running server (demo accounts) and return the Authorization header."""
    r = httpx.post(f"{base_url}/api/v1/auth/token", data={"username": username, "password": password}, timeout=15)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def sim(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the device simulator's command line (`python -m firmware_sim ...`) to completion."""
    return subprocess.run([sys.executable, "-m", "firmware_sim", *args], capture_output=True, text=True, timeout=60)
