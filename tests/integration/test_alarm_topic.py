"""Alarms on their own topic through a real Mosquitto: today's gateway sends an SOS on `…/alarm`, an old
gateway's alarm on `…/up` is still taken; both stored, acknowledged and told to the caregiver."""

from __future__ import annotations

import threading
import time

import pytest

from anxin import protocol
from anxin.mqtt import MqttLink, make_client
from server.db.models import Alarm, IngestedEvent
from tests.integration.harness import wait_until

pytestmark = pytest.mark.integration
SEQ = 900_000  # past whatever the home's own gateway sent meanwhile


class Listener:
    """An MQTT client on the central broker recording what arrives on some topics."""

    def __init__(self, address, topics: list[str], client_id: str) -> None:  # type: ignore[no-untyped-def]
        self.heard: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        self.link = MqttLink(make_client(client_id), address, self._on, [(t, 1) for t in topics])
        self.link.start()
        assert self.link.wait_connected(15)

    def _on(self, topic: str, payload: bytes) -> None:
        with self.lock:
            self.heard.append((topic, payload))

    def on(self, topic: str) -> list[protocol.UplinkBatch]:
        with self.lock:
            return [protocol.decode_batch(p) for t, p in self.heard if t == topic]


def test_an_sos_press_goes_on_the_alarm_topic_and_is_stored_acked_and_told(installation, receiver, central_broker):
    server, home = installation
    gw = home.gateway_id
    spy = Listener(central_broker.address, [protocol.alarm_topic(gw), protocol.up_topic(gw)], "spy")
    try:
        home.button.press()
        assert receiver.wait_for(1, timeout=10), "the caregiver was not notified"
        assert wait_until(lambda: home.gateway.outbox.count() == 0, 10), "the SOS was not acknowledged"
        sent = spy.on(protocol.alarm_topic(gw))
        assert sent and sent[0].events[0].lane == "alarm", "the SOS did not travel on the alarm topic"
        on_up = [e for b in spy.on(protocol.up_topic(gw)) for e in b.events if e.lane == "alarm"]
        assert on_up == [], "an alarm went on /up"
    finally:
        spy.link.stop()
    with server.services.sessions() as s:
        assert s.query(Alarm).one().type == "sos"


def test_an_old_gateways_alarm_on_up_is_still_stored_acked_and_told(installation, receiver, central_broker):
    server, home = installation
    gw = home.gateway_id
    old = Listener(central_broker.address, [protocol.ack_topic(gw)], "old-gateway")  # the home's, as it was
    try:
        sos = {"type": "sos", "severity": "emergency", "change": "raise", "device": "sos-button"}
        batch = protocol.UplinkBatch(
            gw, "boot-old", (protocol.UplinkEvent(SEQ, "alarm", time.time(), sos),), time.time(), batch_id="b1"
        )
        old.link.publish(protocol.up_topic(gw), protocol.encode_batch(batch), 1)
        assert receiver.wait_for(1, timeout=10), "the caregiver was not notified"
        assert wait_until(lambda: any(SEQ in protocol.decode_ack(p).seqs for _t, p in old.heard), 10), "not acked"
    finally:
        old.link.stop()
    with server.services.sessions() as s:
        assert s.query(Alarm).one().type == "sos"
        assert [e.seq for e in s.query(IngestedEvent).filter_by(lane="alarm").all()] == [SEQ]
