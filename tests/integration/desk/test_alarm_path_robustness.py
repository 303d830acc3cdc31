"""The server's alarm path holds against malformed, out-of-order and failing input (each case found in a review,
proven on SQLite and the real PostgreSQL): the alarm is still raised, cancels land right, channels fail alone."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from anxin import protocol
from firmware_sim.receiver import NotificationReceiver
from server import alarms as desk_ops
from server import presence
from server.db.models import Alarm, DeadLetter, Gateway, NotificationAttempt, Reading
from server.db.session import session_factory
from server.ingest import Ingest
from server.notify_channels import apprise_send
from tests.integration.desk.conftest import T0, make_desk, paths, provision, world

pytestmark = pytest.mark.integration

Acks = list[tuple[str, protocol.Ack]]


def up(gw: str, *events: protocol.UplinkEvent, sent: float | None = None) -> tuple[str, bytes]:
    """One uplink message as it arrives from the broker."""
    b = protocol.UplinkBatch(gw, "boot-1", tuple(events), time.time() if sent is None else sent, True)
    return protocol.up_topic(gw), protocol.encode_batch(b)


def alarm_ev(seq: int, body: dict[str, Any], ts: float | None = None) -> protocol.UplinkEvent:
    return protocol.UplinkEvent(seq, "alarm", time.time() if ts is None else ts, body)


@pytest.fixture
def ingest(engine: Engine) -> tuple[Ingest, Acks, list[int]]:
    acks: Acks = []
    new: list[int] = []

    def publish(topic: str, payload: bytes, _qos: int) -> None:
        ack = protocol.decode_ack(payload)  # selective part only: the cumulative `upto` is issue 4's to test
        acks.append((topic, protocol.Ack(ack.seqs, ack.rejected)))

    ing = Ingest(session_factory(engine), publish, new.append)
    return ing, acks, new


def all_alarms(engine: Engine) -> list[Alarm]:
    with session_factory(engine)() as s:
        return list(s.scalars(select(Alarm).order_by(Alarm.id)))


# --- 1. One malformed alarm must not block its batch (and every drain it lands in) for ever -------------

POISON = {
    "detail is not an object": ({"type": "sos", "severity": "emergency", "detail": "pressed twice"}, None),
    "device is not a string": ({"type": "sos", "severity": "emergency", "device": {"ieee": "0x00124b"}}, None),
    "type longer than the column": ({"type": "sos_" + "x" * 60, "severity": "emergency"}, None),
    "severity longer than the column": ({"type": "sos", "severity": "emergency-" + "x" * 30}, None),
    "timestamp out of range": ({"type": "sos", "severity": "emergency"}, 1e20),
    "timestamp not a number": ({"type": "sos", "severity": "emergency"}, float("nan")),
    "NaN in the detail": ({"type": "sos", "severity": "emergency", "detail": {"spo2": float("nan")}}, None),
    "NUL in the message": ({"type": "sos", "severity": "emergency", "message": "help\x00me"}, None),
}


@pytest.mark.parametrize("case", list(POISON))
def test_a_malformed_alarm_is_still_raised_and_does_not_hold_back_other_homes(
    engine: Engine, ingest: tuple[Ingest, Acks, list[int]], case: str
) -> None:
    ing, acks, new = ingest
    body, ts = POISON[case]
    ing.on_message(*up("gw-bad", alarm_ev(1, body, ts)))
    ing.on_message(*up("gw-good", alarm_ev(1, {"type": "fall", "severity": "urgent"})))
    ing.queue.close()  # the stop mark, after everything queued (see Ingest.stop)
    ing.loop.run_once()  # the real ingest loop's step: one drain holding both messages

    assert ("anxin/v1/gw/gw-good/ack", protocol.Ack((1,), ())) in acks, "another home's fall waits for nothing"
    assert ("anxin/v1/gw/gw-bad/ack", protocol.Ack((1,), ())) in acks, "the malformed alarm is stored, not resent"
    raised = {a.gateway_id: a for a in all_alarms(engine)}
    assert set(raised) == {"gw-bad", "gw-good"} and len(new) == 2, "both alarms reach the desk and escalate"
    assert raised["gw-bad"].status == "raised" and raised["gw-bad"].next_escalation_at is not None
    assert ing.counters["internal_errors"] == 0


def test_an_unstorable_reading_is_rejected_and_the_alarm_beside_it_is_raised(
    engine: Engine, ingest: tuple[Ingest, Acks, list[int]]
) -> None:
    ing, acks, new = ingest
    nan = protocol.UplinkEvent(
        1,
        "reading",
        time.time(),
        {"device": "bp", "metric": "blood_pressure", "values": {"systolic": float("nan"), "diastolic": 80}},
    )
    long_metric = protocol.UplinkEvent(
        2, "reading", time.time(), {"device": "bp", "metric": "m" * 40, "values": {"v": 1}}
    )
    ing.handle_many([up("gw-a", nan, long_metric, alarm_ev(3, {"type": "sos", "severity": "emergency"}))])

    assert acks == [("anxin/v1/gw/gw-a/ack", protocol.Ack((3,), (1, 2)))]
    assert len(new) == 1 and len(all_alarms(engine)) == 1
    with session_factory(engine)() as s:
        reasons = list(s.scalars(select(DeadLetter.reason).order_by(DeadLetter.id)))
        assert s.scalars(select(Reading)).all() == []
    assert reasons == ["reading with non-numeric values", "reading with a metric name over 32 characters"]


def test_garbage_that_cannot_even_be_dead_lettered_as_is_does_not_hold_back_an_alarm(
    engine: Engine, ingest: tuple[Ingest, Acks, list[int]]
) -> None:
    ing, acks, new = ingest
    ing.handle_many(
        [
            ("anxin/v1/gw/" + "g" * 300 + "/up", b"\x00\x01 not json"),
            (protocol.up_topic("x" * 70), protocol.encode_batch(protocol.UplinkBatch("x" * 70, "b", (), 0.0, True))),
            up("gw-a", alarm_ev(1, {"type": "sos", "severity": "emergency"})),
        ]
    )
    assert acks == [("anxin/v1/gw/gw-a/ack", protocol.Ack((1,), ()))] and len(new) == 1
    with session_factory(engine)() as s:
        assert len(s.scalars(select(DeadLetter)).all()) == 2
    assert ing.counters["dead_letters"] == 2


# --- 2. Raise and cancel handled out of order (two server processes share the uplink) -----------------

SOS = {"type": "sos", "severity": "emergency", "device": "sos-button"}
CANCEL = {"type": "sos", "change": "cancel", "device": "sos-button"}


def active(engine: Engine) -> list[Alarm]:
    return [a for a in all_alarms(engine) if a.status in desk_ops.ACTIVE]


def test_a_cancel_that_overtakes_its_raise_still_cancels_it(engine: Engine, ingest) -> None:
    ing, _acks, new = ingest
    ing.handle(*up("gw-a", alarm_ev(11, CANCEL)))  # the other process was quicker with the later message
    ing.handle(*up("gw-a", alarm_ev(10, SOS)))
    assert active(engine) == [] and new == [], "nobody is woken for an alarm the resident cancelled"
    [alarm] = all_alarms(engine)
    assert alarm.status == "cancelled" and alarm.outcome == "cancelled_by_resident"


def test_a_first_press_handled_after_its_repeat_and_cancel_stays_cancelled(engine: Engine, ingest) -> None:
    ing, _acks, _new = ingest
    ing.handle(*up("gw-a", alarm_ev(11, SOS)))
    ing.handle(*up("gw-a", alarm_ev(12, CANCEL)))
    ing.handle(*up("gw-a", alarm_ev(10, SOS)))
    assert active(engine) == [], "the resident cancelled after pressing twice"


def test_a_late_cancel_does_not_cancel_the_press_that_came_after_it(engine: Engine, ingest) -> None:
    ing, _acks, _new = ingest
    ing.handle(*up("gw-a", alarm_ev(10, SOS)))
    ing.handle(*up("gw-a", alarm_ev(12, SOS)))  # pressed again after cancelling …
    ing.handle(*up("gw-a", alarm_ev(11, CANCEL)))  # … but the cancel is handled last
    assert len(active(engine)) == 1, "the second press is still an open alarm"


def test_in_order_raise_cancel_raise_in_one_batch_leaves_the_second_press_open(engine: Engine, ingest) -> None:
    ing, _acks, new = ingest
    ing.handle(*up("gw-a", alarm_ev(10, SOS), alarm_ev(11, CANCEL), alarm_ev(12, SOS)))
    [first, second] = all_alarms(engine)
    assert first.status == "cancelled" and second.status == "raised" and second.id in new


# --- 3. A notification recorded as the alarm is acknowledged must not undo the acknowledgement ---------


def test_a_send_recorded_while_the_alarm_is_acknowledged_keeps_it_acknowledged(
    engine: Engine, receiver: NotificationReceiver
) -> None:
    provision(engine, world(receiver))
    d = make_desk(engine)
    with d.sessions() as s, s.begin():
        alarm_id = desk_ops.apply_gateway_alarm(s, "gw-1", 1, 1, SOS, T0, T0).alarm.id
    other = session_factory(engine)
    fired = []

    def caregiver_taps_ack_now(session: Any, _ctx: Any, _instances: Any) -> None:
        # The notifier has read the alarm as `raised` and is about to write down that it notified.
        if not fired and any(getattr(o, "status", None) == "sent" for o in session.dirty):
            fired.append(True)
            with other() as s2, s2.begin():
                desk_ops.acknowledge(s2, alarm_id, "李伟", "caregiver_link", T0)

    event.listen(d.sessions, "before_flush", caregiver_taps_ack_now)
    d.at(0)
    assert fired and paths(receiver) == ["/C1"]
    [alarm] = all_alarms(engine)
    assert alarm.status == "acknowledged", "the desk must show who is on the way"
    d.at(3600)
    assert paths(receiver) == ["/C1"], "nobody else is called once acknowledged"


# --- 4. A warning that becomes an emergency must escalate -----------------------------------------------


def test_an_info_alarm_that_turns_urgent_is_notified(engine: Engine, receiver: NotificationReceiver) -> None:
    provision(engine, world(receiver))
    d = make_desk(engine)
    with d.sessions() as s, s.begin():
        desk_ops.apply_gateway_alarm(s, "gw-1", 1, 1, {"type": "bp_high", "severity": "info"}, T0, T0)
    d.at(0)
    assert paths(receiver) == [], "info is for the doctor, nobody is called"
    with d.sessions() as s, s.begin():
        desk_ops.apply_gateway_alarm(s, "gw-1", 2, 1, {"type": "bp_high", "severity": "urgent"}, T0, T0)
    d.at(1)
    assert paths(receiver) == ["/C1"], "a hypertensive crisis reaches the caregiver"


# --- 5. A time the gateway could not have seen must not silence the notifier -----------------------------


def test_an_alarm_stamped_in_year_9999_does_not_stop_other_homes_being_notified(
    engine: Engine, receiver: NotificationReceiver
) -> None:
    doc = world(receiver)
    doc["residents"].append({"code": "R2", "name": "张建国", "caregivers": ["C2"]})
    doc["gateways"].append({"id": "gw-2", "resident": "R2"})
    provision(engine, doc)
    d = make_desk(engine)
    with d.sessions() as s, s.begin():
        far = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
        desk_ops.apply_gateway_alarm(s, "gw-1", 1, 1, SOS, far, T0)
        desk_ops.apply_gateway_alarm(s, "gw-2", 1, 2, SOS, T0, T0)
    d.at(0)
    assert sorted(paths(receiver)) == ["/C1", "/C2"], "both caregivers hear of their resident's SOS"
    assert d.worker.errors == 0


def test_an_event_time_in_the_future_is_taken_as_the_arrival_time(engine: Engine, ingest) -> None:
    ing, _acks, new = ingest
    ing.handle(*up("gw-a", alarm_ev(1, SOS, ts=253402300000.0)))  # 9999-12-31, sent by a clock that says "synced"
    [alarm] = all_alarms(engine)
    raised = alarm.raised_at if alarm.raised_at.tzinfo else alarm.raised_at.replace(tzinfo=UTC)
    assert abs(raised - datetime.now(UTC)) < timedelta(hours=1) and len(new) == 1


def test_a_channel_that_raises_is_a_failed_attempt_and_the_others_are_sent_once(
    engine: Engine, receiver: NotificationReceiver
) -> None:
    doc = world(receiver)
    doc["residents"].append({"code": "R2", "name": "张建国", "caregivers": ["C2"]})
    doc["gateways"].append({"id": "gw-2", "resident": "R2"})
    provision(engine, doc)

    def send(url: str, title: str, body: str) -> tuple[bool, str | None]:
        if url.endswith("/C1"):
            raise RuntimeError("plugin crashed")
        return apprise_send(url, title, body)

    d = make_desk(engine, send=send, lease_s=1.0)
    with d.sessions() as s, s.begin():
        desk_ops.apply_gateway_alarm(s, "gw-1", 1, 1, SOS, T0, T0)
        desk_ops.apply_gateway_alarm(s, "gw-2", 1, 2, SOS, T0, T0)
    d.at(0)
    d.at(2)  # past the lease: nothing is sent twice
    assert paths(receiver) == ["/C2"]
    with d.sessions() as s:
        errors = list(s.scalars(select(NotificationAttempt.error).where(NotificationAttempt.ok.is_(False))))
    assert errors == ["RuntimeError: plugin crashed"], "the failure is recorded, and retried with back-off"


# --- 6. Presence: a last will that follows a batch in the same drain must win ---------------------------


def state(gw: str, value: str) -> tuple[str, bytes]:
    return f"anxin/v1/gw/{gw}/state", json.dumps({"state": value}).encode()


def test_a_last_will_right_after_a_batch_leaves_the_gateway_offline(engine: Engine, ingest) -> None:
    ing, _acks, _new = ingest
    ing = Ingest(ing.sessions, ing.pipeline.publish, ing.pipeline.on_new_alarm, clock=lambda: T0)
    ing.handle_many([up("gw-a", alarm_ev(1, SOS)), state("gw-a", "offline")])
    ing.pipeline.presence.flush()  # presence reaches the table with the book's next flush
    with session_factory(engine)() as s, s.begin():
        assert s.get(Gateway, "gw-a").state == "offline"
        raised, _cleared = presence.check(s, presence.PresencePolicy(), T0 + timedelta(seconds=61))
    assert len(raised) == 1, "staff hear of the lost connection after the 60 s grace, not after 10 min"


def test_an_overlong_state_does_not_hold_back_the_alarm_beside_it(engine: Engine, ingest) -> None:
    ing, acks, new = ingest
    ing.handle_many(
        [state("gw-a", "rebooting-for-a-firmware-update"), state("g" * 70, "online"), up("gw-a", alarm_ev(1, SOS))]
    )
    assert acks == [("anxin/v1/gw/gw-a/ack", protocol.Ack((1,), ()))] and len(new) == 1


def test_a_malformed_gap_record_is_rejected_and_the_alarm_in_its_batch_raised(engine: Engine, ingest) -> None:
    ing, acks, new = ingest
    bad_gap = protocol.UplinkEvent(1, "gap", time.time(), {"ranges": [["a", "b"], 7], "count": 2})
    ing.handle(*up("gw-a", bad_gap, alarm_ev(2, SOS)))
    assert acks[-1][1].seqs == (2,) and acks[-1][1].rejected == (1,) and len(new) == 1
