"""The parts a scenario starts: the server and load fleets as processes of their own, and databases."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil

from anxin.mqtt import BrokerAddress
from anxin.ports import free_port, wait_for_port
from bench.core import BenchError, log
from firmware_sim.installation import DEMO_PASSWORD, demo_provision
from server.db.session import create_schema, make_engine, session_factory
from server.provision import apply

POSTGRES_ADMIN_URL = os.environ.get("ANXIN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REPO = Path(__file__).resolve().parent.parent


def provision_database(url: str, homes: int, notify_urls: list[str]) -> None:
    """Create the schema and the demo residents, caregivers and gateways gw-r001..gw-r<homes>."""
    engine = make_engine(url)
    try:
        create_schema(engine)
        with session_factory(engine)() as s, s.begin():
            apply(s, demo_provision(homes, notify_urls))
    finally:
        engine.dispose()


def count_rows(url: str, table: str) -> int:
    """Rows in one table (to check what the server stored)."""
    from sqlalchemy import text

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the local PostgreSQL, dropped afterwards; BenchError when unreachable."""
    import psycopg

    name = f"anxin_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True)
    except psycopg.OperationalError as exc:
        raise BenchError(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}") from exc
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def child_env() -> dict[str, str]:
    """The environment for child processes: the repo importable, no stray ANXIN_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANXIN_")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


class ServerProcess:
    """`python -m server run` on an external broker, watched with psutil."""

    def __init__(
        self,
        workdir: Path,
        broker: BrokerAddress,
        database_url: str,
        run_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.env = env or {}  # ANXIN_* settings beyond the flags (e.g. uplink=nats and its cluster)
        self.broker = broker
        self.database_url = database_url
        self.run_args = run_args  # e.g. ("--role", "ingest", "--mqtt-shared-group", "bench")
        self.serves_http = "ingest" not in run_args
        self.log_path = workdir / f"server-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.token: str | None = None

    @property
    def base_url(self) -> str:
        """The HTTP API's root."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        """Start it and wait for the HTTP port."""
        env = {**child_env(), "ANXIN_SECRET_KEY": "bench-secret-of-the-stack", **self.env}
        cmd = [
            sys.executable,
            "-m",
            "server",
            "--log-level",
            "WARNING",
            "--database-url",
            self.database_url,
            "run",
            "--port",
            str(self.port),
            "--no-embedded-broker",
            "--mqtt-host",
            self.broker.host,
            "--mqtt-port",
            str(self.broker.port),
            "--public-url",
            self.base_url,
            *self.run_args,
        ]
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=self.log_path.parent)
        if not (wait_for_port(self.port, timeout=60) if self.serves_http else self._wait_for_log("server running", 60)):
            self.stop()
            raise BenchError(f"server did not start; see {self.log_path}")
        return self

    def _wait_for_log(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_path.read_text(errors="replace"):
                return True
            if self.proc is not None and self.proc.poll() is not None:
                return False
            time.sleep(0.1)
        return False

    @property
    def process(self) -> psutil.Process:
        """The server's process, for RSS and CPU."""
        if not self.proc:
            raise BenchError("server not started")
        return psutil.Process(self.proc.pid)

    def rss_mb(self) -> float:
        """Resident memory now."""
        return self.process.memory_info().rss / 2**20

    def sign_in(self, username: str = "duty", password: str = DEMO_PASSWORD) -> None:
        """Get a staff bearer token (the demo accounts come with `provision_database`)."""
        r = httpx.post(
            f"{self.base_url}/api/v1/auth/token", data={"username": username, "password": password}, timeout=30
        )
        if r.status_code >= 400:
            raise BenchError(f"sign-in as {username}: {r.status_code} {r.text[:200]}")
        self.token = str(r.json()["access_token"])

    def api(self, method: str, path: str, **kw: Any) -> Any:
        """Call the REST API as a signed-in staff member; BenchError on an HTTP error."""
        if self.token is None:
            self.sign_in()
        headers = {"Authorization": f"Bearer {self.token}"}
        r = httpx.request(method, f"{self.base_url}/api/v1{path}", headers=headers, timeout=30, **kw)
        if r.status_code >= 400:
            raise BenchError(f"{method} {path}: {r.status_code} {r.text[:200]}")
        return r.json()

    def stop(self) -> None:
        """SIGTERM, then kill if it hangs."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class FleetProcess:
    """`python -m bench.fleet` in its own process; its status lines are read as they come."""

    def __init__(
        self,
        broker: BrokerAddress,
        gateways: int,
        first: int = 1,
        batch: int = 100,
        window: int = 2,
        interval: float = 0.0,
        duration: float = 3600.0,
    ) -> None:
        self.args = [
            "--host",
            broker.host,
            "--port",
            str(broker.port),
            "--gateways",
            str(gateways),
            "--first",
            str(first),
            "--batch",
            str(batch),
            "--window",
            str(window),
            "--interval",
            str(interval),
            "--duration",
            str(duration),
        ]
        self.latest: dict[str, Any] = {}
        self.final: dict[str, Any] = {}
        self.phases: list[dict[str, Any]] = []
        self.proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> FleetProcess:
        """Start the fleet."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.fleet", *self.args],
            stdout=subprocess.PIPE,
            text=True,
            env=child_env(),
            cwd=REPO,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if doc.get("final"):
                self.final = doc
            elif doc.get("phase"):
                self.phases.append(doc)
            else:
                self.latest = doc

    def wait_for(self, key: str, value: float, timeout: float) -> bool:
        """Wait until the status field `key` reaches `value`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.latest.get(key, 0) >= value:
                return True
            if self.proc and self.proc.poll() is not None:
                break
            time.sleep(0.2)
        return self.latest.get(key, 0) >= value

    def mark_phase(self, timeout: float = 30.0) -> list[float]:
        """End a phase: the ack lags (ms) measured since the previous mark."""
        if not self.proc or self.proc.poll() is not None:
            raise BenchError("the fleet is not running")
        seen = len(self.phases)
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while len(self.phases) == seen and time.monotonic() < deadline:
            time.sleep(0.05)
        if len(self.phases) == seen:
            raise BenchError("the fleet did not report its phase")
        return list(self.phases[-1].get("lags", []))

    def stop(self) -> dict[str, Any]:
        """SIGTERM and collect the final summary."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                log("fleet did not stop in time; killing it")
                self.proc.kill()
        if self._reader:
            self._reader.join(10)
        return self.final
