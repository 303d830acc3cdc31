"""A group's PUBACKs go to a real Mosquitto as one write (ack_all), and the broker reads every one of them:
it forgets exactly the acknowledged messages and redelivers exactly the others after a reconnect."""

from __future__ import annotations

import threading

import paho.mqtt.client as paho
import pytest

from anxin.mqtt import BrokerAddress, Delivery, MqttLink, ack_all, make_client
from tests.integration.harness import wait_until

pytestmark = pytest.mark.integration


class Holder:
    """A manually acknowledging handler that keeps every delivery until the test acknowledges it."""

    def __init__(self) -> None:
        self.got: list[tuple[bytes, Delivery]] = []
        self.lock = threading.Lock()

    def __call__(self, _topic: str, payload: bytes, delivery: Delivery) -> None:
        with self.lock:
            self.got.append((payload, delivery))

    def payloads(self) -> list[bytes]:
        with self.lock:
            return [p for p, _ in self.got]


def acked_link(broker, holder: Holder) -> MqttLink:
    return MqttLink(
        make_client("batched-ack", clean_session=False),
        broker.address,
        lambda t, p: None,
        [("home/#", 1)],
        on_message_acked=holder,
    )


def test_one_write_acknowledges_a_group_and_the_rest_is_redelivered(home_broker):
    first = Holder()
    link = acked_link(home_broker, first)
    pub = MqttLink(make_client("batched-pub"), home_broker.address, lambda t, p: None)
    link.start()
    pub.start()
    try:
        assert link.wait_connected(10) and pub.wait_connected(10)
        for i in range(30):
            pub.publish("home/r", b"%d" % i, 1)
        # Mosquitto sends 20 at a time (max_inflight_messages) and the next only once PUBACKs free room.
        assert wait_until(lambda: len(first.payloads()) >= 20, 10)
        group = [d for _, d in first.got[:20]]
        assert all(d.ack_many is not None for d in group)
        ack_all(group)
        assert wait_until(lambda: len(first.payloads()) == 30, 10), "the broker read the group's PUBACKs"
    finally:
        link.stop()
    # Messages 20..29 were never acknowledged: the persistent session holds them, and only them.
    again = Holder()
    link = acked_link(home_broker, again)
    link.start()
    try:
        assert link.wait_connected(10)
        assert wait_until(lambda: len(again.payloads()) >= 10, 10)
        assert not wait_until(lambda: len(again.payloads()) > 10, 1.0)
        assert sorted(again.payloads(), key=int) == [b"%d" % i for i in range(20, 30)]
        assert all(d.redelivered for _, d in again.got)
        ack_all([d for _, d in again.got])
    finally:
        link.stop()
        pub.stop()


def test_ack_all_keeps_order_across_links_and_plain_acks():
    calls: list[object] = []
    a, b = (lambda mids: calls.append(("a", list(mids)))), (lambda mids: calls.append(("b", list(mids))))
    ds = [
        Delivery(1, False, lambda: calls.append("one"), a),
        Delivery(2, False, lambda: calls.append("two"), a),
        Delivery(3, False, lambda: calls.append("qos0")),
        Delivery(4, False, lambda: calls.append("four"), b),
        Delivery(5, False, lambda: calls.append("five"), a),
    ]
    ack_all(ds)
    assert calls == [("a", [1, 2]), "qos0", ("b", [4]), ("a", [5])]


def test_without_paho_internals_each_message_is_acknowledged_alone():
    link = MqttLink(make_client("batched-fallback"), BrokerAddress("127.0.0.1", 1), lambda t, p: None)
    sent: list[tuple[int, int]] = []

    class Client(paho.Client):
        def ack(self, mid: int, qos: int) -> paho.MQTTErrorCode:
            sent.append((mid, qos))
            return paho.MQTTErrorCode.MQTT_ERR_SUCCESS

        def __getattribute__(self, name: str) -> object:
            if name == "_packet_queue":
                raise AttributeError(name)  # as a paho release without it
            return super().__getattribute__(name)

    link.client = Client(paho.CallbackAPIVersion.VERSION2)
    link.ack_many([7, 8])
    assert sent == [(7, 1), (8, 1)]
