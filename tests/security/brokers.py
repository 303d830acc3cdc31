"""The central broker as `anxin-server` sets it up, twice: its embedded amqtt, and Mosquitto with the
files `anxin-server broker-config` writes. Both with the server and one home logged in."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from anxin.mqtt import BrokerAddress
from anxin.ports import free_port, wait_for_port
from firmware_sim.installation import SimHome, demo_provision
from server.db.session import create_schema, make_engine, session_factory
from server.gateway_credentials import issue_missing, write_mosquitto
from server.provision import apply
from server.runtime import ServerRuntime, build_runtime
from server.settings import ServerSettings
from tests.integration.harness import start_home
from tests.mosquitto import MOSQUITTO

SERVER_PASSWORD = "server-secret-for-tests"


@dataclass
class Secured:
    """A running installation on an authenticating broker."""

    server: ServerRuntime
    home: SimHome
    passwords: dict[str, str]
    gateway_port: int
    proc: subprocess.Popen[bytes] | None = None

    def login(self, user: str | None = None, password: str | None = None) -> BrokerAddress:
        """An address on the gateways' listener with these credentials."""
        return BrokerAddress("127.0.0.1", self.gateway_port, user, password)

    def stop(self) -> None:
        self.home.stop()
        self.server.stop()
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)


def provisioned(tmp_path: Path, homes: int, notify: list[str]) -> tuple[str, dict[str, str]]:
    """A database with the demo layout and each gateway's broker password."""
    url = f"sqlite:///{tmp_path}/server.db"
    engine = make_engine(url)
    create_schema(engine)
    with session_factory(engine)() as s, s.begin():
        apply(s, demo_provision(homes, notify))
        passwords = issue_missing(s)
    engine.dispose()
    return url, passwords


def on_amqtt(tmp_path: Path, local: BrokerAddress, notify: list[str]) -> Secured:
    """`anxin-server run` with its embedded broker, as shipped."""
    url, passwords = provisioned(tmp_path, 2, notify)
    port = free_port()
    server = build_runtime(
        ServerSettings(
            port=free_port(), mqtt=BrokerAddress(port=port), database_url=url, secret_key="test-secret-of-16-chars"
        )
    )
    server.start()
    home = start_home(tmp_path, local, BrokerAddress("127.0.0.1", port), password=passwords["gw-r001"])
    return Secured(server, home, passwords, port)


def on_mosquitto(tmp_path: Path, local: BrokerAddress, notify: list[str]) -> Secured:
    """Mosquitto with the password file, ACL and listeners that `anxin-server broker-config` writes."""
    url, passwords = provisioned(tmp_path, 2, notify)
    gateway_port, server_port = free_port(), free_port()
    engine = make_engine(url)
    with session_factory(engine)() as s:
        files = write_mosquitto(s, tmp_path / "mosquitto", SERVER_PASSWORD, gateway_port, server_port)
    engine.dispose()
    conf = tmp_path / "mosquitto" / "run.conf"
    # Stay the user running the tests (pytest's folders are private to it); everything else as generated.
    conf.write_text("user root\npersistence false\n" + files[2].read_text())
    with open(tmp_path / "mosquitto" / "log", "wb") as log:  # the child keeps its own copy of the file
        proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    assert wait_for_port(gateway_port, timeout=10) and wait_for_port(server_port, timeout=10), (
        tmp_path / "mosquitto" / "log"
    ).read_text()
    server = build_runtime(
        ServerSettings(
            port=free_port(),
            embedded_broker=False,
            mqtt=BrokerAddress(port=server_port, username="anxin-server", password=SERVER_PASSWORD),
            database_url=url,
            secret_key="test-secret-of-16-chars",
        )
    )
    server.start()
    home = start_home(tmp_path, local, BrokerAddress("127.0.0.1", gateway_port), password=passwords["gw-r001"])
    return Secured(server, home, passwords, gateway_port, proc)
