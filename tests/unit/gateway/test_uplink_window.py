"""The uplink's window (issue 24): fresh entries above a per-lane cursor, resends from a deadline heap."""

from __future__ import annotations

from anxin import protocol
from gateway.config import UplinkConfig
from gateway.outbox import Outbox, connect
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
    assert len(sent) == 3 and stuck == [] and up._inflight == {}


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
