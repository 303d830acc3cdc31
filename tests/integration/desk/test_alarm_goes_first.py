"""A new alarm's caregiver message goes out before ingest commits the next drain of other homes'
readings — and a slow channel cannot hold those readings back for long. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from anxin import protocol
from firmware_sim.receiver import NotificationReceiver
from server.ingest import Ingest
from tests.integration.desk.conftest import Clock, make_desk, provision, world

pytestmark = pytest.mark.integration


def batch(gw: str, *events: protocol.UplinkEvent) -> tuple[str, bytes]:
    return protocol.up_topic(gw), protocol.encode_batch(protocol.UplinkBatch(gw, "boot-1", events, time.time(), True))


def readings(first: int, n: int = 50) -> tuple[protocol.UplinkEvent, ...]:
    return tuple(
        protocol.UplinkEvent(
            seq, "reading", time.time(), {"device": "hr", "metric": "heart_rate", "values": {"bpm": 70}}
        )
        for seq in range(first, first + n)
    )


SOS = protocol.UplinkEvent(1, "alarm", time.time(), {"type": "sos", "severity": "emergency", "device": "button"})


class Timeline:
    """What happened, in order: caregiver messages sent and acknowledgements published."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.changed = threading.Condition()

    def add(self, what: str) -> None:
        with self.changed:
            self.events.append(what)
            self.changed.notify_all()

    def wait_for(self, what: str, timeout: float = 15) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: what in self.events, timeout)


def run_desk_and_ingest(engine: Engine, receiver: NotificationReceiver, send):  # type: ignore[no-untyped-def]
    provision(engine, {**world(receiver), "gateways": [{"id": "gw-1", "resident": "R1"}, {"id": "gw-2"}]})
    timeline = Timeline()
    clock = Clock(datetime.now(UTC))
    desk = make_desk(engine, clock, send=lambda url, title, body: send(timeline, url, title, body))
    ingest = Ingest(
        desk.sessions,
        lambda topic, _p, _q: timeline.add("ack " + topic.split("/")[3]),
        on_new_alarm=desk.worker.wake,
        clock=clock,
        alarm_first=desk.worker.alarm_first,
    )
    return timeline, desk, ingest


def test_the_caregiver_is_sent_the_alarm_before_other_homes_readings_are_committed(
    engine: Engine, receiver: NotificationReceiver
) -> None:
    def send(timeline: Timeline, url: str, _title: str, _body: str) -> tuple[bool, None]:
        time.sleep(0.2)  # a real channel takes a while; the readings queued behind must still wait
        timeline.add("sent " + url.rsplit("/", 1)[-1])
        return True, None

    timeline, desk, ingest = run_desk_and_ingest(engine, receiver, send)
    ingest.on_message(*batch("gw-1", SOS))
    for i in range(5):
        ingest.on_message(*batch("gw-2", *readings(1 + 50 * i)))
    desk.worker.start()
    ingest.start()
    try:
        assert timeline.wait_for("ack gw-2"), "the readings are committed in the end"
    finally:
        ingest.stop()
        desk.worker.stop()
    first_reading_ack = timeline.events.index("ack gw-2")
    assert timeline.events[:2] == ["ack gw-1", "sent C1"], timeline.events
    assert first_reading_ack == 2, "no other home's readings were committed before caregiver 1 was messaged"


def test_a_channel_that_hangs_does_not_hold_other_homes_readings_for_long(
    engine: Engine, receiver: NotificationReceiver
) -> None:
    release = threading.Event()

    def send(timeline: Timeline, url: str, _title: str, _body: str) -> tuple[bool, None]:
        release.wait(30)  # an SMTP server that does not answer
        timeline.add("sent " + url.rsplit("/", 1)[-1])
        return True, None

    timeline, desk, ingest = run_desk_and_ingest(engine, receiver, send)
    ingest.on_message(*batch("gw-1", SOS))
    ingest.on_message(*batch("gw-2", *readings(1)))
    desk.worker.start()
    ingest.start()
    try:
        assert timeline.wait_for("ack gw-2"), "readings flow again while the channel still hangs"
        assert "sent C1" not in timeline.events
    finally:
        release.set()
        assert timeline.wait_for("sent C1"), "and the caregiver is still messaged once the channel answers"
        ingest.stop()
        desk.worker.stop()
