"""Heartbeats through the presence book: a silent home still alarms staff, its return still clears it."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from anxin import protocol
from firmware_sim.receiver import NotificationReceiver
from server.db.models import Alarm, Gateway
from server.db.session import session_factory
from server.ingest import Ingest
from server.presence_book import PresenceBook
from tests.integration.desk.conftest import T0, Clock, make_desk, provision

pytestmark = pytest.mark.integration


@pytest.fixture
def home(engine: Engine, receiver: NotificationReceiver) -> None:
    provision(
        engine,
        {
            "caregivers": [{"code": "C1", "name": "李伟", "notify": [receiver.url("/C1")]}],
            "residents": [{"code": "R1", "name": "王秀英", "caregivers": ["C1"]}],
            "gateways": [{"id": "gw-1", "resident": "R1"}, {"id": "gw-2", "resident": "R1"}],
            "staff": [
                {
                    "username": "duty",
                    "display_name": "值班员",
                    "role": "staff",
                    "password_hash": "x",
                    "notify": [receiver.url("/duty")],
                }
            ],
        },
    )


def heartbeat(gw: str, n: int) -> tuple[str, bytes]:
    return protocol.up_topic(gw), protocol.encode_batch(protocol.UplinkBatch(gw, "boot-1", (), batch_id=f"hb-{n}"))


def offline_alarms(d) -> list[tuple[str | None, str]]:  # type: ignore[no-untyped-def]
    with d.sessions() as s:
        found = s.scalars(select(Alarm).where(Alarm.type == "gateway_offline").order_by(Alarm.id))
        return [(a.gateway_id, a.status) for a in found]


def test_a_home_whose_heartbeats_stop_alarms_staff_and_its_next_heartbeat_clears_it(
    engine: Engine, home: None, receiver: NotificationReceiver
) -> None:
    clock = Clock()
    d = make_desk(engine, clock)
    acks: list[str] = []
    ingest = Ingest(d.sessions, lambda t, _p, _q: acks.append(t), lambda _a: None, clock=clock)
    book = ingest.pipeline.presence
    beat = 0
    for minute in range(12):  # gw-2 keeps beating every minute; gw-1 falls silent after the first
        clock.now = clock.now.replace(minute=minute)
        beat += 1
        ingest.handle(*heartbeat("gw-2", beat))
        if minute == 0:
            ingest.handle(*heartbeat("gw-1", beat))
        book.flush()  # the book's loop does this every 2 s
        d.at(minute * 60)
    assert acks.count(protocol.ack_topic("gw-1")) == 1 and acks.count(protocol.ack_topic("gw-2")) == 12
    assert offline_alarms(d) == [("gw-1", "notified")], "the silent home, and only it, is raised to staff"
    assert "/duty" in {r.path for r in receiver.received}
    ingest.handle(*heartbeat("gw-1", beat + 1))
    book.flush()
    d.at(12 * 60)
    assert [status for _gw, status in offline_alarms(d)] == ["resolved"], "heard again: cleared"


def test_heartbeats_noted_before_a_restart_reach_the_desk(engine: Engine, home: None) -> None:
    """The process stops between two flushes: its stop writes the book, so the desk raises nothing false."""
    clock = Clock()
    d = make_desk(engine, clock)
    first = Ingest(d.sessions, lambda *_a: None, lambda _a: None, clock=clock)
    first.handle(*heartbeat("gw-1", 1))
    first.handle(*heartbeat("gw-2", 1))
    first.stop()  # a restart: nothing was flushed by a loop
    clock.advance(9 * 60)
    second = Ingest(d.sessions, lambda *_a: None, lambda _a: None, clock=clock)  # the process after the restart
    second.handle(*heartbeat("gw-1", 2))
    second.stop()
    d.at(11 * 60)
    assert offline_alarms(d) == [("gw-2", "notified")], "gw-1 was heard after the restart; gw-2 only before it"


@pytest.mark.parametrize("boot", ["boot\x00-1", "boot-\ud800"], ids=["nul", "lone-surrogate"])
def test_one_gateways_bad_boot_id_does_not_stop_every_homes_presence(engine: Engine, home: None, boot: str) -> None:
    """A heartbeat whose boot id PostgreSQL or UTF-8 cannot hold (a NUL, a lone surrogate, which json
    reads) was noted as it came: every flush failed on it and was put back, so no home's heartbeat reached
    the table any more and every home soon looked silent to the desk."""
    clock = Clock()
    d = make_desk(engine, clock)
    ingest = Ingest(d.sessions, lambda *_a: None, lambda _a: None, clock=clock)
    book = ingest.pipeline.presence
    bad = json.dumps({"v": 1, "gw": "gw-1", "boot": boot, "events": [], "id": "hb-x"}).encode()
    for minute in range(12):
        clock.now = clock.now.replace(minute=minute)
        ingest.handle(protocol.up_topic("gw-1"), bad)
        ingest.handle(*heartbeat("gw-2", minute))
        book.flush()
        d.at(minute * 60)
    assert offline_alarms(d) == [], "both homes kept beating: nobody is raised to staff"


def test_a_home_back_and_gone_again_between_two_flushes_gets_its_full_grace(engine: Engine, home: None) -> None:
    """A flaky router: the will at T0 is written; the home reconnects at +30 s and drops again at +31 s,
    both before the next flush. It has been offline since +31 s, so the desk must not raise the
    offline alarm at +70 s (the grace is a minute): the written 'offline since' must be +31 s, not T0."""
    from server.presence import PresencePolicy, is_down

    sessions = session_factory(engine)
    book = PresenceBook(sessions, Counter())
    book.heard("gw-1", T0 - timedelta(seconds=5), "boot-1")
    book.state("gw-1", "offline", T0)  # the last will
    book.flush()
    book.state("gw-1", "online", T0 + timedelta(seconds=30), "boot-1")  # back (its birth message)
    book.state("gw-1", "offline", T0 + timedelta(seconds=31))  # and gone again
    book.flush()
    with sessions() as s:
        gw = s.get(Gateway, "gw-1")
    assert gw is not None
    policy = PresencePolicy(silent_after=timedelta(minutes=10), offline_grace=timedelta(seconds=60))
    assert is_down(gw, policy, T0 + timedelta(seconds=70)) is None, "alarmed 39 s into its one-minute grace"
    assert is_down(gw, policy, T0 + timedelta(seconds=92)) is not None, "a full grace later it is alarmed"
