"""The uplink's window (issue 24): fresh entries above a per-lane cursor, resends from a deadline heap."""

from __future__ import annotations

from anxin import protocol
from gateway.config import UplinkConfig
from gateway.outbox import Outbox
from gateway.outbox_db import connect
from gateway.uplink import Uplink

GW = "gw-w"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make(tmp_path, publish, **cfg):  # type: ignore[no-untyped-def]
    box = Outbox(connect(tmp_path / "o.sqlite"))
    box.recover(1.7e9)
    mono = Clock()
    stuck: list[bool] = []
    up = Uplink(
        GW,
        "boot",
        box,
        publish,
        UplinkConfig(**{"batch_size": 10, "resend_after_s": 5, "max_resend_after_s": 20, **cfg}),
        on_command=lambda c: None,
        monotonic=mono,
        on_stuck=lambda: stuck.append(True),
    )
    up.on_connection(True)
    return up, box, mono, stuck


def test_an_ack_that_overtakes_the_publish_leaves_nothing_in_flight(tmp_path):
    sent: list[protocol.UplinkBatch] = []

    def publish_and_ack_at_once(topic: str, payload: bytes, qos: int) -> None:
        batch = protocol.decode_batch(payload)
        sent.append(batch)
        ack = protocol.Ack(tuple(e.seq for e in batch.events), (), 0, batch.batch_id)
        up.on_message(protocol.ack_topic(GW), protocol.encode_ack(ack))

    up, box, mono, stuck = make(tmp_path, publish_and_ack_at_once, stuck_after_s=30)
    for i in range(25):
        box.put("reading", {"metric": "m", "values": {"v": i}}, 1.7e9)
    while up.send_once() == 0.0:
        pass
    assert [len(b.events) for b in sent] == [10, 10, 5] and box.count() == 0
    mono.t += 30  # past every deadline: what was acknowledged is forgotten, not resent, not "stuck"
    up.send_once()
    up.send_once()
    assert len(sent) == 3 and stuck == [] and up._window.inflight == {}


def test_fresh_entries_follow_the_cursor_and_due_ones_are_resent_in_lane_order(tmp_path):
    sent: list[protocol.UplinkBatch] = []
    up, box, mono, _ = make(tmp_path, lambda t, p, q: sent.append(protocol.decode_batch(p)), max_inflight=15)
    readings = [box.put("reading", {"metric": "m", "values": {"v": i}}, 1.7e9) for i in range(30)]
    up.send_once()
    up.send_once()
    assert [e.seq for e in sent[1].events] == readings[10:15], "five of room left in the window"
    assert up.send_once() == 0.05, "the window is full"
    event = box.put("event", {"device": "door", "kind": "door_open"}, 1.7e9)
    mono.t += 7  # the first batch is due (5 s ± 20 %), the second too
    up.send_once()
    assert [e.seq for e in sent[-1].events] == [event, *readings[:9]], "events first, then the due readings"
    assert up.stats.resent == 9


def test_a_resend_waits_longer_than_the_fresh_entries_sent_with_it_and_acks_leave_nothing_behind(tmp_path):
    """One deadline per batch and attempt count: a batch mixing resent and fresh entries gives each its own
    backoff; once everything is acknowledged no deadline or group is left to wake the sender."""
    sent: list[protocol.UplinkBatch] = []
    up, box, mono, _ = make(tmp_path, lambda t, p, q: sent.append(protocol.decode_batch(p)), max_inflight=8)
    readings = [box.put("reading", {"metric": "m", "values": {"v": i}}, 1.7e9) for i in range(12)]
    up.send_once()
    assert [e.seq for e in sent[0].events] == readings[:8], "the window is 8"
    ack = protocol.Ack((readings[0],), (), 0, sent[0].batch_id)
    up.on_message(protocol.ack_topic(GW), protocol.encode_ack(ack))
    up.send_once()
    assert [e.seq for e in sent[1].events] == [readings[8]], "one acknowledged: one of room"
    mono.t += 6.1  # past every first deadline (5 s ± 20 %)
    up.send_once()
    assert [e.seq for e in sent[2].events] == [*readings[1:9]], "the seven due ones and the eighth, in order"
    ack = protocol.Ack(tuple(readings[6:9]), (), 0, sent[2].batch_id)
    up.on_message(protocol.ack_topic(GW), protocol.encode_ack(ack))
    up.send_once()  # five in flight: room for three fresh ones, sent for the first time
    assert [e.seq for e in sent[3].events] == readings[9:12]
    mono.t += 6.1  # the fresh ones are due again; the resent ones wait 10 s ± 20 % from their resend
    up.send_once()
    assert [e.seq for e in sent[4].events] == readings[9:12]
    every = tuple(readings)
    for batch in sent:
        up.on_message(protocol.ack_topic(GW), protocol.encode_ack(protocol.Ack(every, (), 0, batch.batch_id)))
    assert box.count() == 0 and up._window.inflight == {} and up._window.groups == {} and up._window.overdue == {}
    assert up.send_once() == 1.0, "nothing in flight: the sender only looks again in a second"
