"""A takeover of the server's MQTT session cannot silence alarm intake for good: the server notices and recovers."""

from __future__ import annotations

import time

import httpx
import pytest

from anxin.mqtt import BrokerAddress
from anxin.ports import free_port
from server.broker import EmbeddedBroker
from tests.integration.harness import provision, start_home, start_server, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def embedded_broker():
    """The broker `anxin-server run` embeds (amqtt), alone on a free port."""
    broker = EmbeddedBroker("127.0.0.1", free_port())
    broker.start()
    yield broker
    broker.stop()


def test_intake_recovers_by_itself_after_a_client_id_takeover(tmp_path, embedded_broker, home_broker, receiver,
                                                               attacker):
    central = BrokerAddress("127.0.0.1", embedded_broker.port)
    server = start_server(tmp_path, central, intake_probe_s=0.5, intake_dead_after_s=3.0)
    home = None
    try:
        provision(server, 1, [receiver.url("/caregiver/{code}")])
        home = start_home(tmp_path, home_broker.address, central)
        health = f"{server.settings.base_url}/api/v1/health"
        server_id = server.link.client._client_id.decode()  # noqa: SLF001 - what someone on the wire would see

        # Someone connects for a moment with the server's own client id, and leaves.
        intruder = attacker(central, client_id=server_id)
        time.sleep(1.0)
        intruder.stop()

        home.button.press()
        got = receiver.wait_for(1, 60)
        assert got and got[0].path == "/caregiver/R001", "alarm intake stayed dead after the takeover"
        assert wait_until(lambda: httpx.get(health, timeout=5).json()["status"] == "ok", 30)
    finally:
        if home:
            home.stop()
        server.stop()
