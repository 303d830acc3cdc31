"""Which topic a batch goes on: one that carries an alarm on the gateway's alarm topic, the rest on /up."""

from __future__ import annotations

from anxin import protocol
from gateway.config import UplinkConfig
from gateway.outbox import Outbox
from gateway.outbox_db import connect
from gateway.uplink import Uplink

GW = "gw-t"


def make(tmp_path, monotonic=lambda: 1000.0):
    box = Outbox(connect(tmp_path / "o.sqlite"))
    box.recover(1.7e9)
    sent: list[tuple[str, protocol.UplinkBatch]] = []
    up = Uplink(
        GW,
        "boot",
        box,
        lambda t, p, q: sent.append((t, protocol.decode_batch(p))),
        UplinkConfig(batch_size=100, resend_after_s=5, max_resend_after_s=20),
        on_command=lambda c: None,
        monotonic=monotonic,
    )
    up.on_connection(True)
    return up, box, sent


def test_a_batch_carrying_an_alarm_goes_on_the_alarm_topic_the_rest_on_up(tmp_path):
    up, box, sent = make(tmp_path)
    r = box.put("reading", {"metric": "m", "values": {"v": 1}}, 1.7e9)
    up.send_once()
    assert sent[-1][0] == protocol.up_topic(GW) == f"anxin/v1/gw/{GW}/up"
    a = box.put_alarm({"type": "sos"}, 1.7e9)
    r2 = box.put("reading", {"metric": "m", "values": {"v": 2}}, 1.7e9)
    up.send_once()
    topic, batch = sent[-1]
    assert topic == protocol.alarm_topic(GW) == f"anxin/v1/gw/{GW}/alarm"
    assert [e.seq for e in batch.events] == [a, r2], "the alarm leads; readings after it ride along"
    up.on_message(protocol.ack_topic(GW), protocol.encode_ack(protocol.Ack((r, a, r2), (), 0, batch.batch_id)))
    box.put("reading", {"metric": "m", "values": {"v": 3}}, 1.7e9)
    up.send_once()
    assert sent[-1][0] == protocol.up_topic(GW), "once the alarm is acknowledged, readings are back on /up"


def test_the_alarm_topic_is_an_uplink_topic_of_the_same_gateway():
    assert protocol.gateway_from_topic(protocol.alarm_topic("gw-9")) == "gw-9"


def test_an_alarm_resent_alternates_with_up_so_a_broker_refusing_the_alarm_topic_cannot_hold_it(tmp_path):
    # A broker whose ACL predates the alarm topic (upgraded in the wrong order) drops /alarm silently:
    # the gateway gets no server ack, and its resend must reach the server by the topic every version reads.
    clock = [1000.0]
    up, box, sent = make(tmp_path, lambda: clock[0])
    a = box.put_alarm({"type": "sos"}, 1.7e9)
    topics = []
    for _ in range(3):
        up.send_once()
        topics.append(sent[-1][0])
        assert sent[-1][1].events[0].seq == a
        clock[0] += 60  # past any resend deadline: nobody acknowledged
    assert topics == [protocol.alarm_topic(GW), protocol.up_topic(GW), protocol.alarm_topic(GW)]
