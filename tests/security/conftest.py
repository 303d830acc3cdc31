"""Fixtures of the security suite: the integration installation, and an attacker's MQTT client."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from anxin.mqtt import BrokerAddress, MqttLink, make_client
from tests.integration.conftest import installation  # noqa: F401 (a fixture, used by the tests here)

pytestmark = pytest.mark.integration


@pytest.fixture
def attacker() -> Iterator[Callable[..., MqttLink]]:
    """Connect MQTT clients the way someone on the network would; all are stopped afterwards."""
    links: list[MqttLink] = []

    def connect(
        address: BrokerAddress,
        client_id: str = "mallory",
        subscribe: list[str] | None = None,
        received: list[tuple[str, bytes]] | None = None,
        wait: bool = True,
    ) -> MqttLink:
        sink = received if received is not None else []
        link = MqttLink(
            make_client(client_id), address, lambda t, p: sink.append((t, p)), [(topic, 1) for topic in subscribe or []]
        )
        link.start()
        links.append(link)
        if wait:
            assert link.wait_connected(10), f"the attacker could not connect to {address.host}:{address.port}"
        return link

    yield connect
    for link in links:
        link.stop()
