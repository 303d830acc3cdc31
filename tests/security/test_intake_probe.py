"""A takeover of the server's MQTT session cannot silence alarm intake: refused, and if forced, recovered from."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from anxin.mqtt import BrokerAddress
from anxin.ports import free_port
from server.runtime import ServerRuntime, build_runtime
from server.settings import ServerSettings
from tests.integration.harness import provision, start_home, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def embedded(tmp_path: Path, home_broker, receiver) -> Iterator[tuple[ServerRuntime, object]]:  # type: ignore[no-untyped-def]
    """`anxin-server run` as shipped (its embedded amqtt broker) with one home logged in to it."""
    settings = ServerSettings(
        port=free_port(),
        mqtt=BrokerAddress(port=free_port()),
        database_url=f"sqlite:///{tmp_path}/s.db",
        secret_key="test-secret-of-16-chars",
        intake_probe_s=0.5,
        intake_dead_after_s=3.0,
    )
    server = build_runtime(settings)
    server.start()
    passwords = provision(server, 1, [receiver.url("/caregiver/{code}")])
    home = start_home(tmp_path, home_broker.address, central(server), password=passwords["gw-r001"])
    yield server, home
    home.stop()
    server.stop()


def central(server: ServerRuntime, user: str | None = None, password: str | None = None) -> BrokerAddress:
    return BrokerAddress("127.0.0.1", server.settings.mqtt.port, user, password)


def server_client_id(server: ServerRuntime) -> str:
    return server.link.client._client_id.decode()


def test_a_takeover_of_the_servers_client_id_is_refused(embedded, receiver, attacker):
    server, home = embedded
    for login in (central(server), central(server, "gw-r001", "wrong"), central(server, "anxin-server", "guess")):
        intruder = attacker(login, client_id=server_client_id(server), wait=False)
        time.sleep(1.0)
        assert not intruder.connected.is_set(), f"{login.username!r} connected with the server's client id"
        intruder.stop()
    home.button.press()
    assert receiver.wait_for(1, 30), "the refused takeover silenced intake"
    assert server.probe.reconnects == 0


def test_intake_recovers_by_itself_after_a_forced_takeover(embedded, receiver, attacker):
    server, home = embedded
    # Forced: someone holding the server's own password (a second process misconfigured with its id).
    intruder = attacker(
        central(server, "anxin-server", server.link.address.password), client_id=server_client_id(server)
    )
    time.sleep(1.0)
    intruder.stop()

    home.button.press()
    got = receiver.wait_for(1, 60)
    assert got and got[0].path == "/caregiver/R001", "alarm intake stayed dead after the takeover"
    health = f"{server.settings.base_url}/api/v1/health"
    assert wait_until(lambda: httpx.get(health, timeout=5).json()["status"] == "ok", 30)
    assert server.probe.reconnects >= 1, "the probe noticed the dead intake and reconnected"
