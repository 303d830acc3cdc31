"""Escalation: caregiver 1 → caregiver 2 → on-duty staff → supervisor → again, until acknowledged."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, select

from firmware_sim.receiver import NotificationReceiver
from server import alarms as desk_ops
from server.db.models import Alarm, AlarmAudit, NotificationAttempt, Resident
from tests.integration.desk.conftest import T0, Clock, make_desk, paths, provision, raise_sos, world

pytestmark = pytest.mark.integration


def test_policy_runs_in_order_and_repeats_until_acknowledged(engine: Engine, receiver: NotificationReceiver) -> None:
    provision(engine, world(receiver))
    d = make_desk(engine)
    alarm_id = raise_sos(engine)
    d.at(0)
    assert paths(receiver) == ["/C1"]
    assert "紧急求助" in receiver.received[0].text and "王秀英" in receiver.received[0].text
    d.at(59)
    assert paths(receiver) == ["/C1"], "caregiver 1 has 60 s before anyone else is called"
    d.at(60)
    assert paths(receiver) == ["/C1", "/C2"]
    assert "Emergency call (SOS)" in receiver.received[1].text, "caregiver 2 reads English"
    d.at(60 + 120)
    assert paths(receiver)[2:] == ["/duty"]
    d.at(60 + 120 + 120)
    assert paths(receiver)[3:] == ["/boss"]
    d.at(60 + 120 + 120 + 300)
    assert paths(receiver)[4:] == ["/C1"], "after the supervisor the policy starts again"
    assert "/doc" not in paths(receiver)

    with d.sessions() as s, s.begin():
        desk_ops.acknowledge(s, alarm_id, "值班员", "console", d.clock.now)
    d.at(10_000)
    assert len(receiver.received) == 5, "an acknowledgement stops escalation"
    with d.sessions() as s:
        steps = [a.detail["stage"] for a in s.scalars(select(AlarmAudit).where(AlarmAudit.action == "escalated"))]
        assert steps == ["caregiver", "caregiver", "staff", "supervisor", "caregiver"]


def test_timers_survive_a_restart(engine: Engine, receiver: NotificationReceiver) -> None:
    provision(engine, world(receiver))
    first = make_desk(engine)
    raise_sos(engine)
    first.at(0)
    assert paths(receiver) == ["/C1"]
    # A new process with nothing in memory picks up where the first one stopped.
    second = make_desk(engine, Clock(first.clock.now))
    second.at(30)
    assert paths(receiver) == ["/C1"]
    second.at(61)
    assert paths(receiver) == ["/C1", "/C2"]


def test_technical_alarms_go_to_staff_only(engine: Engine, receiver: NotificationReceiver) -> None:
    provision(engine, world(receiver))
    d = make_desk(engine)
    raise_sos(engine, type_="gateway_offline")
    d.at(0)
    d.at(120)
    d.at(420)
    assert paths(receiver) == ["/duty", "/boss", "/duty"]


def test_the_roster_decides_who_is_on_duty(engine: Engine, receiver: NotificationReceiver) -> None:
    doc = world(receiver)
    doc["staff"].append(
        {
            "username": "night",
            "display_name": "Night",
            "role": "staff",
            "password_hash": "x",
            "notify": [receiver.url("/night")],
            "shifts": [
                {"starts_at": "2026-03-02T15:00:00+08:00", "ends_at": "2026-03-02T23:00:00+08:00"},
                {"starts_at": "2026-03-03T15:00:00+08:00", "ends_at": "2026-03-03T23:00:00+08:00"},
            ],
        }
    )
    provision(engine, doc)  # T0 is 16:00 in Beijing: inside night's first shift
    d = make_desk(engine)
    raise_sos(engine, type_="gateway_offline")
    d.at(0)
    assert paths(receiver) == ["/night"]


def test_failed_channel_is_retried_then_given_up_and_every_attempt_recorded(
    engine: Engine, receiver: NotificationReceiver
) -> None:
    from anxin.ports import free_port

    dead = f"json://127.0.0.1:{free_port()}/nobody-listens"
    doc = world(receiver)
    doc["caregivers"][0]["notify"] = [dead, receiver.url("/C1")]
    provision(engine, doc)
    d = make_desk(engine, backoff_s=(5.0, 30.0))
    alarm_id = raise_sos(engine)
    d.at(0)
    assert paths(receiver) == ["/C1"], "the working channel is not held up by the broken one"
    d.at(5)
    d.at(35)
    d.at(59)
    with d.sessions() as s:
        tries = s.scalars(
            select(NotificationAttempt).where(NotificationAttempt.alarm_id == alarm_id).order_by(NotificationAttempt.id)
        ).all()
        broken = [(t.attempt, t.ok) for t in tries if "nobody-listens" in t.channel]
        assert broken == [(1, False), (2, False), (3, False)]
        assert all(t.error for t in tries if not t.ok)
        actions = [a.action for a in s.scalars(select(AlarmAudit).where(AlarmAudit.alarm_id == alarm_id))]
        assert "notification_failed" in actions
        assert s.get(Alarm, alarm_id).status == "notified"


def test_rate_limit_per_channel_delays_but_never_drops(engine: Engine, receiver: NotificationReceiver) -> None:
    group_bot = receiver.url("/group")
    doc = {
        "caregivers": [{"code": f"C{i}", "name": f"cg{i}", "notify": [group_bot]} for i in range(5)],
        "residents": [{"code": f"R{i}", "name": f"r{i}", "caregivers": [f"C{i}"]} for i in range(5)],
        "gateways": [{"id": f"gw-{i}", "resident": f"R{i}"} for i in range(5)],
    }
    provision(engine, doc)
    d = make_desk(engine, rate_limits={"json": 3})
    from server.db.session import session_factory

    with session_factory(engine)() as s, s.begin():
        for i in range(5):
            res = s.scalars(select(Resident).where(Resident.code == f"R{i}")).one()
            desk_ops.apply_gateway_alarm(s, f"gw-{i}", 1, res.id, {"type": "sos", "severity": "emergency"}, T0, T0)
    d.at(0)
    assert len(receiver.received) == 3
    d.at(30)
    assert len(receiver.received) == 3, "no more than 3 a minute on that channel"
    d.at(61)
    assert len(receiver.received) == 5


def test_two_desks_on_one_database_notify_each_step_once(engine: Engine, receiver: NotificationReceiver) -> None:
    doc = {
        "caregivers": [{"code": f"C{i}", "name": f"cg{i}", "notify": [receiver.url(f"/C{i}")]} for i in range(20)],
        "residents": [{"code": f"R{i}", "name": f"r{i}", "caregivers": [f"C{i}"]} for i in range(20)],
        "gateways": [{"id": f"gw-{i}", "resident": f"R{i}"} for i in range(20)],
    }
    provision(engine, doc)
    from server.db.session import session_factory

    with session_factory(engine)() as s, s.begin():
        for i in range(20):
            res = s.scalars(select(Resident).where(Resident.code == f"R{i}")).one()
            desk_ops.apply_gateway_alarm(s, f"gw-{i}", 1, res.id, {"type": "sos", "severity": "emergency"}, T0, T0)
    clock = Clock()
    a, b = make_desk(engine, clock), make_desk(engine, clock)
    a.worker.notifier.start()
    b.worker.notifier.start()
    threads = [threading.Thread(target=x.settle) for x in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    a.worker.notifier.stop()
    b.worker.notifier.stop()
    assert sorted(paths(receiver)) == sorted(f"/C{i}" for i in range(20))
