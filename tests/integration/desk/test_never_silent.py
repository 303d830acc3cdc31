"""No silent failure: a stage with nobody to notify moves on at once, and the supervisor hears of it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from firmware_sim.receiver import NotificationReceiver
from server.db.models import AlarmAudit
from server.web import views
from tests.integration.desk.conftest import make_desk, paths, provision, raise_sos

pytestmark = pytest.mark.integration


def world(receiver: NotificationReceiver, supervisor: bool = True, staff: bool = True) -> dict:
    """The reproduced bug: the only caregiver's notify_urls were blanked by an admin edit."""
    people = []
    if staff:
        people.append(
            {
                "username": "duty",
                "display_name": "值班员",
                "role": "staff",
                "password_hash": "x",
                "notify": [receiver.url("/duty")],
            }
        )
    if supervisor:
        people.append(
            {
                "username": "boss",
                "display_name": "主管",
                "role": "supervisor",
                "password_hash": "x",
                "notify": [receiver.url("/boss")],
            }
        )
    return {
        "caregivers": [{"code": "C001", "name": "李伟", "notify": []}],
        "residents": [{"code": "R1", "name": "王秀英", "caregivers": [{"code": "C001", "ack_timeout_s": 300}]}],
        "gateways": [{"id": "gw-1", "resident": "R1"}],
        "staff": people,
    }


def actions(d, alarm_id: int) -> list[str]:
    with d.sessions() as s:
        return list(s.scalars(select(AlarmAudit.action).where(AlarmAudit.alarm_id == alarm_id).order_by(AlarmAudit.id)))


def test_caregiver_without_channel_goes_to_staff_at_once_and_supervisor_is_told(
    engine: Engine, receiver: NotificationReceiver
) -> None:
    provision(engine, world(receiver))
    d = make_desk(engine)
    alarm_id = raise_sos(engine)
    d.at(0)
    # Not 10 s later, not 300 s later: in the same round, the duty staff and the supervisor.
    assert sorted(paths(receiver)) == ["/boss", "/duty"]
    boss = next(r for r in receiver.received if r.path == "/boss")
    assert "未能通知家属" in boss.text and "王秀英" in boss.text and "无可用联系人" in boss.text
    assert "/console/alarms/" in boss.text
    assert actions(d, alarm_id)[:4] == ["raised", "no_recipients", "supervisor_told", "escalated"]
    with d.sessions() as s:
        assert views.unreached(s, [alarm_id]) == {alarm_id}, "the queue must say 未能通知"
    # Told once: the next rounds do not send the supervisor the same news again.
    d.at(120)
    assert paths(receiver).count("/boss") == 2, "the supervisor stage itself is still part of the policy"


def test_nobody_at_all_is_recorded_once_and_retried(engine: Engine, receiver: NotificationReceiver) -> None:
    provision(engine, world(receiver, supervisor=False, staff=False))
    d = make_desk(engine)
    alarm_id = raise_sos(engine)
    d.at(0)
    d.at(30)
    d.at(60)
    assert receiver.received == []
    done = actions(d, alarm_id)
    assert done.count("nobody_reachable") == 1, done
    with d.sessions() as s:
        assert views.unreached(s, [alarm_id]) == {alarm_id}


def test_a_caregiver_who_cannot_come_moves_the_escalation_on_at_once(
    engine: Engine, receiver: NotificationReceiver
) -> None:
    from server import alarms as desk_ops

    doc = world(receiver)
    doc["caregivers"] = [
        {"code": "C1", "name": "李伟", "notify": [receiver.url("/C1")]},
        {"code": "C2", "name": "李娜", "notify": [receiver.url("/C2")]},
    ]
    doc["residents"][0]["caregivers"] = [{"code": "C1", "ack_timeout_s": 300}, "C2"]
    provision(engine, doc)
    d = make_desk(engine)
    alarm_id = raise_sos(engine)
    d.at(0)
    assert paths(receiver) == ["/C1"]
    with d.sessions() as s, s.begin():
        desk_ops.decline(s, alarm_id, "李伟", d.clock.now)
    d.at(5)
    assert paths(receiver) == ["/C1", "/C2"], "李伟 can't come: 李娜 is called now, not after 300 s"
    # A decline from someone whose stage is over does not cut the next person's time short.
    with d.sessions() as s, s.begin():
        desk_ops.decline(s, alarm_id, "李伟", d.clock.now)
    d.at(6)
    assert paths(receiver) == ["/C1", "/C2"]
    assert actions(d, alarm_id).count("declined") == 2


def test_an_empty_staff_stage_after_the_family_was_told_is_not_could_not_notify(
    engine: Engine, receiver: NotificationReceiver
) -> None:
    # The family is reachable and told; nobody on duty has a channel. Staff still see the alarm on the console,
    # so the queue must not cry "未能通知" and the supervisor must not hear that the family was not told.
    w = world(receiver)
    w["caregivers"][0]["notify"] = [receiver.url("/family")]
    w["staff"][0]["notify"] = []
    provision(engine, w)
    d = make_desk(engine)
    alarm_id = raise_sos(engine)
    d.at(0)
    assert paths(receiver) == ["/family"]
    d.at(301)  # the family did not acknowledge: the staff stage is empty, so the supervisor at once
    assert sorted(paths(receiver)) == ["/boss", "/family"]
    boss = next(r for r in receiver.received if r.path == "/boss")
    assert "未能通知家属" not in boss.text
    assert "no_recipients" in actions(d, alarm_id), "the empty stage stays in the alarm's history"
    with d.sessions() as s:
        assert views.unreached(s, [alarm_id]) == set(), "the family was told: not 未能通知"
