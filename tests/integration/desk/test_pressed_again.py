"""A resident who presses again after someone acknowledged is heard: the acknowledger and the desk are
told again (at most once a minute). SQLite and PostgreSQL, through ingest as the gateway's message arrives."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from anxin import protocol
from firmware_sim.receiver import NotificationReceiver
from server import alarms as desk_ops
from server.db.models import Alarm, AlarmAudit
from server.ingest import Ingest
from tests.integration.desk.conftest import Desk, make_desk, paths, provision, world

pytestmark = pytest.mark.integration


class Home:
    """Gateway gw-1's SOS presses, delivered to ingest at the desk's clock."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.seq = 0
        self.ingest = Ingest(desk.sessions, lambda *_a: None, desk.worker.wake, clock=desk.clock)

    def press(self, change: str = "raise") -> None:
        self.seq += 1
        ts = self.desk.clock.now.timestamp()
        body = {"type": "sos", "severity": "emergency", "device": "sos-button", "change": change}
        batch = protocol.UplinkBatch("gw-1", "boot-1", (protocol.UplinkEvent(self.seq, "alarm", ts, body),), ts, True)
        self.ingest.handle(protocol.up_topic("gw-1"), protocol.encode_batch(batch))


def the_alarm(desk: Desk) -> Alarm:
    with desk.sessions() as s:
        return s.scalars(select(Alarm)).one()


def audit_actions(desk: Desk) -> list[str]:
    with desk.sessions() as s:
        return list(s.scalars(select(AlarmAudit.action).order_by(AlarmAudit.id)))


@pytest.fixture
def setup(engine: Engine, receiver: NotificationReceiver) -> tuple[Desk, Home]:
    provision(engine, world(receiver))
    desk = make_desk(engine)
    return desk, Home(desk)


def test_a_press_after_the_caregivers_acknowledgement_tells_her_and_the_desk_again(
    setup: tuple[Desk, Home], receiver: NotificationReceiver
) -> None:
    desk, home = setup
    home.press()
    desk.settle()
    assert paths(receiver) == ["/C1"]
    with desk.sessions() as s, s.begin():
        desk_ops.acknowledge(s, the_alarm(desk).id, "李伟", "link", desk.clock.now)

    desk.clock.advance(30)
    home.press()
    desk.settle()
    assert sorted(paths(receiver)[1:]) == ["/C1", "/duty"], "the one on her way, and the desk"
    again = next(r for r in receiver.received[1:] if r.path == "/C1")
    assert "再次呼叫" in again.text and "王秀英" in again.text
    assert the_alarm(desk).status == "acknowledged", "still handled by the same person"

    desk.clock.advance(20)
    home.press()
    desk.settle()
    assert len(receiver.received) == 3, "a second press within the minute is recorded, not sent again"
    assert audit_actions(desk).count("repeated") == 2

    desk.clock.advance(45)
    home.press()
    desk.settle()
    assert sorted(paths(receiver)[3:]) == ["/C1", "/duty"], "a minute after the last reminder: told again"


def test_a_press_after_staff_acknowledged_reaches_the_desk_once(
    setup: tuple[Desk, Home], receiver: NotificationReceiver
) -> None:
    desk, home = setup
    home.press()
    desk.settle()
    with desk.sessions() as s, s.begin():
        desk_ops.acknowledge(s, the_alarm(desk).id, "值班员", "console", desk.clock.now)
    desk.clock.advance(10)
    home.press()
    desk.settle()
    assert paths(receiver) == ["/C1", "/duty"], "the acknowledging staff member is the desk: one message"
    assert "Called AGAIN" not in receiver.received[1].text and "再次呼叫" in receiver.received[1].text


def test_a_press_before_anyone_acknowledged_only_joins_the_running_escalation(
    setup: tuple[Desk, Home], receiver: NotificationReceiver
) -> None:
    desk, home = setup
    home.press()
    desk.settle()
    desk.clock.advance(10)
    home.press()
    desk.settle()
    assert paths(receiver) == ["/C1"], "caregiver 1 still has her minute; nobody is told twice"
    assert "reminded_after_repeat" not in audit_actions(desk)
