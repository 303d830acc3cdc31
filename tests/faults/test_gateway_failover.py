"""A gateway with two central addresses loses nothing when the node it uses dies.

Two central Mosquittos stand for two nodes of a cluster: each has an ingest server of its own, and both
servers write to one PostgreSQL database (as the ingest processes of a cluster do). The gateway uses
node A, with B as its fallback. Node A hangs (SIGSTOP) while readings stream and the SOS button is
pressed, so that a backlog and an alarm wait unacknowledged; then it is killed (SIGKILL). The gateway
reconnects to B by itself, and everything is stored exactly once, the SOS before the backlog.

A second test gives the server the fallback too (ANXIN_MQTT_FALLBACKS, a JSON list): one server and the
gateway both move from A to B.
"""

from __future__ import annotations

import json
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from server.db.session import create_schema, make_engine
from tests.faults.checks import assert_alarms_first, assert_nothing_lost, caught_up, ready, settled, settled_high_seq
from tests.faults.conftest import ALLOW, Installation
from tests.faults.procs import GatewayProc, ServerProc, devices, stored
from tests.integration.harness import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.faults]


class PgServerProc(ServerProc):
    """`anxin-server run` on one node's broker, writing to a shared PostgreSQL database."""

    def __init__(self, workdir: Path, name: str, broker_port: int, url: str) -> None:
        super().__init__(workdir, _NoBroker(broker_port))
        self.name, self.url = name, url
        self.argv[self.argv.index("--database-url") + 1] = url

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """The same rows as ServerProc.query gives from SQLite (JSON columns as text)."""
        with psycopg.connect(self.url) as conn:
            rows = conn.execute(sql.replace("?", "%s"), args).fetchall()
        return [tuple(json.dumps(v) if isinstance(v, dict | list) else v for v in row) for row in rows]


class _NoBroker:
    """What ServerProc reads of a broker address: its port."""

    def __init__(self, port: int) -> None:
        self.port = port


def freeze_then_kill(broker) -> float:
    """SIGKILL a node that is already frozen; returns when (monotonic) it died."""
    broker.proc.send_signal(signal.SIGKILL)
    broker.proc.wait(10)
    return time.monotonic()


def all_stored(inst: Installation) -> bool:
    """The server's database holds every alarm and reading published so far (acks follow each commit)."""
    st = stored(inst.server)
    return len(st.lane("alarm")) >= inst.devices.presses and set(inst.devices.readings) <= set(st.humidity)


def report(what: str, t0: float, inst: Installation, node_b: str) -> None:
    """Print (pytest -s) how long the switch took: kill -> on node B -> the backlog stored (and acked)."""
    on_b = wait_until(lambda: f"MQTT connected to {node_b}" in whole_log(inst.gateway), 60, 0.01)
    t_on_b = time.monotonic()
    done = wait_until(lambda: all_stored(inst), 120, 0.01)
    t_stored = time.monotonic()
    print(
        f"\nfailover ({what}): gateway on {node_b} after {t_on_b - t0:.2f} s ({on_b}), "
        f"backlog and SOS stored after {t_stored - t0:.2f} s ({done})",
        file=sys.stderr,
    )


def whole_log(proc) -> str:
    """Everything the process printed (Proc.log gives only the end)."""
    return (proc.workdir / f"{proc.name}.log").read_text(errors="replace")


@pytest.fixture
def acl_dir() -> Iterator[Path]:
    """Mosquitto started as root reads its ACL as the `mosquitto` user: a directory that user can read."""
    path = Path(tempfile.mkdtemp(prefix="anxin-acl-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def shared_db(postgres_url: str) -> str:
    create_schema(make_engine(postgres_url))  # before two servers race to create it
    return postgres_url


@pytest.mark.postgres
def test_the_gateway_moves_to_the_live_node_and_loses_nothing(
    tmp_path: Path, mosquitto_factory, shared_db: str, monkeypatch, acl_dir: Path
) -> None:
    monkeypatch.setenv("ANXIN_SECRET_KEY", "failover-test-secret-key")  # PostgreSQL: every server shares one
    acl = acl_dir / "central.acl"
    acl.write_text(ALLOW)
    acl.chmod(0o644)
    home, a, b = mosquitto_factory(), mosquitto_factory(f"acl_file {acl}"), mosquitto_factory(f"acl_file {acl}")
    node_b = f"127.0.0.1:{b.port}"
    server_a = PgServerProc(tmp_path, "server-a", a.port, shared_db)
    server_b = PgServerProc(tmp_path, "server-b", b.port, shared_db)
    gateway = GatewayProc(
        tmp_path, home.address, a.address, central_broker={"username": "gw-f1", "fallbacks": [node_b]}
    )
    inst = Installation(home, a, server_a, gateway, devices(home.address), acl)
    try:
        server_a.start()
        server_b.start()
        gateway.start()
        ready(inst)
        d = inst.devices
        d.stream(0, 300, per_s=400)
        d.press()
        settled(inst)  # node A carries everything

        a.proc.send_signal(signal.SIGSTOP)  # node A hangs: batches go out, nothing comes back
        d.stream(300, 300, per_s=600)
        d.press()
        caught_up(inst)  # the backlog and the SOS are in the outbox, unacknowledged
        before = settled_high_seq(inst)
        t0 = freeze_then_kill(a)
        report("node A killed", t0, inst, node_b)

        d.stream(600, 200, per_s=400)  # life goes on through B
        d.press()
        st = settled(inst)
        assert_nothing_lost(st, inst)
        assert_alarms_first(st, before, 1)
        assert f"MQTT connected to {node_b}" in whole_log(gateway)
        assert "trying " + node_b + " next" in whole_log(gateway), "the switch must be on the console"
    finally:
        inst.devices.link.stop()
        gateway.stop()
        server_a.stop()
        server_b.stop()


def test_server_and_gateway_both_move_to_the_live_node(
    tmp_path: Path, mosquitto_factory, monkeypatch, acl_dir: Path
) -> None:
    acl = acl_dir / "central.acl"
    acl.write_text(ALLOW)
    acl.chmod(0o644)
    home, a, b = mosquitto_factory(), mosquitto_factory(f"acl_file {acl}"), mosquitto_factory(f"acl_file {acl}")
    node_b = f"127.0.0.1:{b.port}"
    monkeypatch.setenv("ANXIN_MQTT_FALLBACKS", json.dumps([node_b]))  # read by the server process only
    server = ServerProc(tmp_path, a.address)
    gateway = GatewayProc(
        tmp_path, home.address, a.address, central_broker={"username": "gw-f1", "fallbacks": [node_b]}
    )
    inst = Installation(home, a, server, gateway, devices(home.address), acl)
    try:
        server.start()
        gateway.start()
        ready(inst)
        d = inst.devices
        d.stream(0, 300, per_s=400)
        caught_up(inst)
        a.proc.send_signal(signal.SIGSTOP)
        d.stream(300, 300, per_s=600)
        d.press()
        caught_up(inst)
        before = settled_high_seq(inst)
        t0 = freeze_then_kill(a)
        report("node A killed, server moves too", t0, inst, node_b)
        d.stream(600, 200, per_s=400)
        d.press()
        st = settled(inst)
        assert_nothing_lost(st, inst)
        assert_alarms_first(st, before, 1)
        assert f"MQTT connected to {node_b}" in whole_log(server), server.log()
    finally:
        inst.devices.link.stop()
        gateway.stop()
        server.stop()
