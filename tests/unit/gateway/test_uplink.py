"""The uplink window on a real outbox with an injected clock: what is sent, resent and forgotten."""

from __future__ import annotations

from anxin import protocol
from gateway.config import UplinkConfig
from gateway.outbox import Outbox
from gateway.outbox_db import connect
from gateway.uplink import Uplink

GW = "gw-u"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make(tmp_path, **cfg):
    box = Outbox(connect(tmp_path / "o.sqlite"))
    box.recover(1.7e9)
    sent: list[protocol.UplinkBatch] = []
    mono = Clock()
    stuck: list[bool] = []
    up = Uplink(
        GW,
        "boot",
        box,
        lambda t, p, q: sent.append(protocol.decode_batch(p)),
        UplinkConfig(**{"batch_size": 100, "resend_after_s": 5, "max_resend_after_s": 20, **cfg}),
        on_command=lambda c: None,
        monotonic=mono,
        on_stuck=lambda: stuck.append(True),
    )
    up.on_connection(True)
    up.sent_log = sent  # type: ignore[attr-defined]
    return up, box, sent, mono, stuck


def seqs(batch: protocol.UplinkBatch) -> list[int]:
    return [e.seq for e in batch.events]


def ack(up: Uplink, *acked: int, upto: int = 0) -> None:
    """The server's answer: it names the batch that carried the sequence numbers."""
    batch = next((b for b in reversed(up.sent_log) if set(acked) <= {e.seq for e in b.events}), up.sent_log[-1])
    up.on_message(protocol.ack_topic(GW), protocol.encode_ack(protocol.Ack(tuple(acked), (), upto, batch.batch_id)))


def test_broker_puback_is_not_an_ack_only_the_server_ack_deletes(tmp_path):
    up, box, sent, _mono, _ = make(tmp_path)
    s = box.put("reading", {"metric": "m", "values": {"v": 1}}, 1.7e9)
    up.send_once()
    assert seqs(sent[0]) == [s] and box.count() == 1, "published is not delivered"
    ack(up, s)
    assert box.count() == 0


def test_unacked_events_are_resent_with_growing_jittered_backoff(tmp_path):
    up, box, sent, mono, _ = make(tmp_path)
    box.put("reading", {"metric": "m", "values": {"v": 1}}, 1.7e9)
    up.send_once()
    delays = []
    for _ in range(4):
        wait = up.send_once()
        assert len(sent) == len(delays) + 1, "resent before its deadline"
        delays.append(wait)
        mono.t += wait + 0.001
        up.send_once()
    assert 4.0 <= delays[0] <= 6.0 and 8.0 <= delays[1] <= 12.0
    assert all(d <= 24.0 for d in delays) and up.stats.resent == 4


def test_alarms_lead_every_batch_and_bypass_a_full_window(tmp_path):
    up, box, sent, _mono, _ = make(tmp_path, max_inflight=200)
    for i in range(300):
        box.put("reading", {"metric": "m", "values": {"v": i}}, 1.7e9)
    up.send_once()
    up.send_once()
    assert up.send_once() == 0.05 and len(sent) == 2, "the window is full of readings"
    a = box.put_alarm({"type": "sos"}, 1.7e9)
    up.send_once()
    assert seqs(sent[-1]) == [a], "an alarm must not wait for room in the window"
    ack(up, *seqs(sent[0]))
    up.send_once()
    assert seqs(sent[-1])[0] == a and sent[-1].events[0].lane == "alarm", "unacked alarms ride at the head"


def test_reconnect_and_server_return_resend_at_once_alarms_first(tmp_path):
    up, box, sent, _mono, _ = make(tmp_path)
    r = box.put("reading", {"metric": "m", "values": {"v": 1}}, 1.7e9)
    up.send_once()
    up.on_connection(False)
    assert up.send_once() == 1.0 and len(sent) == 1
    a = box.put_alarm({"type": "sos"}, 1.7e9)
    up.on_connection(True)
    up.send_once()
    assert seqs(sent[-1]) == [a, r]
    up.on_message(protocol.server_state_topic(), b'{"v":1,"state":"online"}')
    up.send_once()
    assert seqs(sent[-1]) == [a, r], "the server came back: no waiting for the backoff"


def test_stuck_link_is_reported_once_per_period(tmp_path):
    up, box, _sent, mono, stuck = make(tmp_path, stuck_after_s=30)
    box.put("reading", {"metric": "m", "values": {"v": 1}}, 1.7e9)
    up.send_once()
    mono.t += 29
    up.send_once()
    assert stuck == []
    mono.t += 2
    up.send_once()
    up.send_once()
    assert stuck == [True] and up.stats.stuck_restarts == 1


def test_an_unacknowledged_alarm_declares_the_link_stuck_long_before_readings_would(tmp_path):
    """A link that carries publishes but no acks (seen on a NATS node after another's loss): with an SOS in
    flight the uplink reconnects after alarm_stuck_after_s, well before the home's SMS fallback (30 s)
    would page the caregiver for an alarm the server may already have."""
    up, box, _sent, mono, stuck = make(tmp_path, stuck_after_s=90, alarm_stuck_after_s=12)
    box.put("alarm", {"type": "sos", "severity": "emergency"}, 1.7e9)
    up.send_once()
    mono.t += 11
    up.send_once()
    assert stuck == []
    mono.t += 2
    up.send_once()
    assert stuck == [True], "no ack for 12 s with an alarm in flight: reconnect"
    mono.t += 5
    up.send_once()
    assert stuck == [True], "one nudge per period"

    quiet, box2, _sent2, mono2, stuck2 = make(tmp_path / "readings", stuck_after_s=90, alarm_stuck_after_s=12)
    box2.put("reading", {"metric": "m", "values": {"v": 1}}, 1.7e9)
    quiet.send_once()
    mono2.t += 20
    quiet.send_once()
    assert stuck2 == [], "readings alone wait the long period"
    alarm = box2.put("alarm", {"type": "sos", "severity": "emergency"}, 1.7e9)
    quiet.send_once()
    assert alarm in seqs(_sent2[-1]) and stuck2 == [], "the alarm goes out on the link first: it may get through"
    mono2.t += 11
    quiet.send_once()
    assert stuck2 == []
    mono2.t += 2
    quiet.send_once()
    assert stuck2 == [True], "12 s after the alarm went out with no ack: reconnect"


def test_acks_that_keep_coming_mean_the_link_is_not_stuck_while_an_alarm_waits(tmp_path):
    up, box, _sent, mono, stuck = make(tmp_path, stuck_after_s=90, alarm_stuck_after_s=12)
    a = box.put("alarm", {"type": "sos", "severity": "emergency"}, 1.7e9)
    for i in range(5):
        r = box.put("reading", {"metric": "m", "values": {"v": i}}, 1.7e9)
        up.send_once()
        mono.t += 5
        ack(up, r)  # the server answers (a refused alarm aside, the link works)
        up.send_once()
    assert box.count() >= 1 and a in [e.seq for e in box.alarms()]
    assert stuck == []


def test_malformed_ack_is_counted_and_ignored(tmp_path):
    up, box, _sent, _mono, _ = make(tmp_path)
    box.put("reading", {"metric": "m", "values": {"v": 1}}, 1.7e9)
    up.on_message(protocol.ack_topic(GW), b"nonsense")
    assert up.stats.bad_acks == 1 and box.count() == 1


def test_cumulative_ack_forgets_everything_up_to_it(tmp_path):
    up, box, _sent, _mono, _ = make(tmp_path)
    seqs = [box.put("reading", {"metric": "m", "values": {"v": i}}, 1.7e9) for i in range(5)]
    up.send_once()
    ack(up, upto=seqs[2])
    assert [e.seq for e in box.pending(10)] == seqs[3:]


def test_an_ack_clears_only_what_the_batch_it_names_carried(tmp_path):
    up, box, sent, _mono, _ = make(tmp_path)
    alarm = box.put_alarm({"type": "sos"}, 1.7e9)
    later = box.put("reading", {"metric": "m", "values": {"v": 1}}, 1.7e9)  # stored, not yet sent
    up.send_once()
    sent_now = [e.seq for e in sent[-1].events]
    box.put("reading", {"metric": "m", "values": {"v": 2}}, 1.7e9)
    forged = [protocol.Ack((), (), 2**31 - 1), protocol.Ack((alarm,), (), 0, "not-a-batch-we-sent")]
    for a in forged:
        up.on_message(protocol.ack_topic(GW), protocol.encode_ack(a))
    assert box.count("alarm") == 1 and up.stats.untrusted_acks == 2, "an ack nobody asked for clears nothing"
    up.on_message(
        protocol.ack_topic(GW), protocol.encode_ack(protocol.Ack((10_000,), (), 2**31 - 1, sent[-1].batch_id))
    )
    assert up.stats.unknown_seqs == 1
    assert later in sent_now and box.count() == 1, "upto is clamped to the highest sent: the unsent reading stays"
    up.on_connection(False)
    up.on_connection(True)
    up.on_message(protocol.ack_topic(GW), protocol.encode_ack(protocol.Ack((), (), 2**31 - 1, sent[-1].batch_id)))
    assert up.stats.untrusted_acks == 3, "an ack for a batch of the previous connection is not trusted"


def test_a_batch_too_large_for_the_server_is_split_and_the_alarm_still_leads(tmp_path):
    # Readings near a device's payload cap (native: 256 KiB) would make a batch the server refuses for its
    # size at every resend, holding back the alarm at its front for good.
    up, box, sent, _mono, _ = make(tmp_path)
    alarm = box.put_alarm({"type": "sos"}, 1.7e9)
    for i in range(8):
        box.put("reading", {"metric": "m", "values": {"v": i}, "raw": "x" * 200_000}, 1.7e9)
    up.send_once()
    first = protocol.encode_batch(sent[0])
    assert seqs(sent[0])[0] == alarm and len(first) <= protocol.MAX_UPLINK_BYTES // 2
    assert len(sent[0].events) < 9 and up.stats.batches_split > 0
    while up.send_once() == 0.0:
        pass
    assert {e.seq for b in sent for e in b.events} == {alarm, *range(alarm + 1, alarm + 9)}
    assert all(len(protocol.encode_batch(b)) <= protocol.MAX_UPLINK_BYTES for b in sent)


def test_an_alarm_the_server_rejects_leaves_the_outbox_and_causes_no_stuck_reconnects(tmp_path):
    """A rejected (dead-lettered) alarm is answered in the ack's `rejected`: it is forgotten, so the 12 s
    alarm stuck check does not reconnect the link every 12 s for ever (review of stop 16)."""
    up, box, _sent, mono, stuck = make(tmp_path, stuck_after_s=90, alarm_stuck_after_s=12)
    a = box.put("alarm", {"type": "sos", "severity": "emergency"}, 1.7e9)
    up.send_once()
    batch = up.sent_log[-1]
    up.on_message(protocol.ack_topic(GW), protocol.encode_ack(protocol.Ack((), (a,), 0, batch.batch_id)))
    assert box.alarms() == []
    for _ in range(10):
        mono.t += 13
        up.send_once()
    assert stuck == []
