"""Every broker authenticates and confines: no anonymous clients, each gateway only its own topics and id."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from anxin import protocol
from server.db.models import Alarm
from tests.integration.harness import wait_until
from tests.security.brokers import Secured, on_amqtt, on_mosquitto

pytestmark = pytest.mark.integration

OTHER = "gw-r002"  # a provisioned gateway with valid credentials of its own
SOS = {"type": "sos", "severity": "emergency", "change": "raise", "device": "sos-button", "message": "forged"}


@pytest.fixture(params=["amqtt", "mosquitto"])
def secured(request, tmp_path, home_broker, receiver) -> Iterator[Secured]:  # type: ignore[no-untyped-def]
    """The server and home R001 on an authenticating central broker (embedded amqtt, or Mosquitto)."""
    start = on_amqtt if request.param == "amqtt" else on_mosquitto
    installation = start(tmp_path, home_broker.address, [receiver.url("/caregiver/{code}")])
    yield installation
    installation.stop()


def test_anonymous_and_wrong_passwords_are_refused(secured, attacker):
    for login in (
        secured.login(),
        secured.login("gw-r001", "wrong"),
        secured.login("anxin-server", "guess"),
        secured.login("nobody", "x"),
    ):
        intruder = attacker(login, client_id=f"probe-{login.username}", wait=False)
        time.sleep(1.0)
        assert not intruder.connected.is_set(), f"{login.username!r} / {login.password!r} was let in"
    # …while the home's own login works: its SOS reaches the caregiver.
    secured.home.button.press()
    assert wait_until(lambda: secured.home.gateway.outbox.count() == 0, 30)


def test_a_gateway_can_neither_speak_for_another_nor_read_its_topics(secured, receiver, attacker):
    heard: list[tuple[str, bytes]] = []
    target = secured.home.gateway_id
    other = attacker(
        secured.login(OTHER, secured.passwords[OTHER]),
        client_id=f"anxin-gw-{OTHER}",
        subscribe=["#", protocol.ack_topic(target), protocol.cmd_topic(target)],
        received=heard,
    )
    batch = protocol.UplinkBatch(
        target, "boot-x", (protocol.UplinkEvent(900, "alarm", time.time(), SOS),), sent_at=time.time()
    )
    other.publish(protocol.up_topic(target), protocol.encode_batch(batch))
    other.publish(protocol.alarm_topic(target), protocol.encode_batch(batch))  # alarms' own topic: the same
    forged = {"v": 1, "cmd": "permit_join", "seconds": 254}
    other.publish(protocol.cmd_topic(target), json.dumps(forged).encode())
    other.publish(protocol.ack_topic(target), b'{"v":1,"seqs":[],"upto":2147483647}')

    secured.home.button.press()  # real traffic on the target's topics: the other gateway must see none of it
    assert receiver.wait_for(1, 30), "the home's own SOS did not arrive"
    assert wait_until(lambda: secured.home.gateway.outbox.count() == 0, 30)
    time.sleep(1.0)
    assert [t for t, _p in heard if target in t] == [], "a gateway read another home's topics"
    with secured.server.services.sessions() as s:
        messages = [a.message for a in s.query(Alarm).all()]
    assert "forged" not in messages and len(messages) == 1, "a gateway raised an alarm for another home"
    assert secured.home.gateway.gateway.counters["commands"] == 0, "a gateway sent another home a command"


def test_a_gateway_cannot_take_over_another_gateways_or_the_servers_session(secured, attacker):
    links = {"home": secured.home.gateway.central, "server": secured.server.link}
    before = {name: link.stats.disconnects for name, link in links.items()}
    server_id = secured.server.link.client._client_id.decode()
    for _ in range(3):  # the attack as reported: reconnecting with the id every 0.7 s
        for client_id in (f"anxin-gw-{secured.home.gateway_id}", server_id):
            intruder = attacker(secured.login(OTHER, secured.passwords[OTHER]), client_id=client_id, wait=False)
            time.sleep(0.7)
            intruder.stop()
    after = {name: link.stats.disconnects for name, link in links.items()}
    assert after == before, "another gateway's connect dropped a session that was not its own"
    secured.home.button.press()
    assert wait_until(lambda: secured.home.gateway.outbox.count() == 0, 30)
    assert secured.server.probe.reconnects == 0
