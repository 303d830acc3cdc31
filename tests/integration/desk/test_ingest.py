"""Ingest on SQLite and PostgreSQL: exactly-once effect, ack after commit, bad input dead-lettered."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, func, select

from anxin import protocol
from server.db.models import Alarm, DeadLetter, IngestedEvent, Reading
from server.db.session import session_factory
from server.ingest import Ingest

pytestmark = pytest.mark.integration


def reading(seq: int, sys: float = 130) -> protocol.UplinkEvent:
    return protocol.UplinkEvent(
        seq,
        "reading",
        time.time(),
        {"device": "bp", "metric": "blood_pressure", "values": {"systolic": sys, "diastolic": 80}},
    )


def batch(gw: str, *events: protocol.UplinkEvent) -> bytes:
    return protocol.encode_batch(protocol.UplinkBatch(gw, "boot-1", tuple(events), time.time(), True))


@pytest.fixture
def ingest(engine: Engine) -> tuple[Ingest, list[tuple[str, protocol.Ack]], list[int]]:
    acks: list[tuple[str, protocol.Ack]] = []
    alarms: list[int] = []
    ing = Ingest(session_factory(engine), lambda t, p, q: acks.append((t, protocol.decode_ack(p))), alarms.append)
    return ing, acks, alarms


def count(engine: Engine, model: type) -> int:
    with session_factory(engine)() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def test_many_messages_in_one_drain_are_stored_once_and_each_acked(engine: Engine, ingest) -> None:
    ing, acks, alarms = ingest
    sos = protocol.UplinkEvent(3, "alarm", time.time(), {"type": "sos", "severity": "emergency"})
    ing.handle_many(
        [
            (protocol.up_topic("gw-a"), batch("gw-a", reading(1), reading(2), sos)),
            (protocol.up_topic("gw-b"), batch("gw-b", reading(1))),
            (protocol.up_topic("gw-a"), batch("gw-a", reading(2), reading(4))),  # seq 2 resent
        ]
    )
    assert [(t, a.seqs) for t, a in acks] == [
        ("anxin/v1/gw/gw-a/ack", (1, 2, 3)),
        ("anxin/v1/gw/gw-b/ack", (1,)),
        ("anxin/v1/gw/gw-a/ack", (2, 4)),
    ]
    assert count(engine, Reading) == 4 and count(engine, IngestedEvent) == 5
    assert len(alarms) == 1 and ing.counters["duplicates"] == 1
    ing.handle(protocol.up_topic("gw-a"), batch("gw-a", reading(1), reading(4)))
    assert acks[-1][1].seqs == (1, 4) and count(engine, Reading) == 4, "a resent batch changes nothing"


def test_bad_input_is_dead_lettered_counted_and_ingest_goes_on(engine: Engine, ingest) -> None:
    ing, acks, _ = ingest
    bad_values = protocol.UplinkEvent(2, "reading", time.time(), {"metric": "blood_pressure", "values": {"s": "hi"}})
    ing.handle_many(
        [
            (protocol.up_topic("gw-a"), b"{not json"),
            (protocol.up_topic("gw-a"), batch("gw-b", reading(1))),  # payload says gw-b on gw-a's topic
            (protocol.up_topic("gw-a"), batch("gw-a", reading(1), bad_values)),
        ]
    )
    assert acks == [("anxin/v1/gw/gw-a/ack", protocol.Ack((1,), (2,), upto=2))]  # upto: the cumulative ack
    with session_factory(engine)() as s:
        reasons = [d.reason for d in s.scalars(select(DeadLetter).order_by(DeadLetter.id))]
    assert reasons[0].startswith("not JSON")
    assert "does not match topic" in reasons[1]
    assert reasons[2] == "reading with non-numeric values"
    assert ing.counters["dead_letters"] == 3 and count(engine, Reading) == 1


def test_one_active_alarm_per_home_and_type_even_when_raised_twice(engine: Engine, ingest) -> None:
    ing, _acks, alarms = ingest
    sos = {"type": "sos", "severity": "emergency"}
    ing.handle_many(
        [
            (protocol.up_topic("gw-a"), batch("gw-a", protocol.UplinkEvent(1, "alarm", time.time(), sos))),
            (protocol.up_topic("gw-a"), batch("gw-a", protocol.UplinkEvent(2, "alarm", time.time(), sos))),
        ]
    )
    with session_factory(engine)() as s:
        [alarm] = s.scalars(select(Alarm)).all()
        assert alarm.repeat_count == 1 and len(alarms) == 1
