"""The desk's periodic coverage check on a real database: a resident left without a gateway raises one
technical alarm to staff; pairing a gateway clears it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from firmware_sim.receiver import NotificationReceiver
from server.coverage_watch import COVERAGE_ALARM, CoverageWatch
from server.db.models import Alarm, Device, Gateway, Resident
from tests.integration.desk.conftest import T0, make_desk, provision

pytestmark = pytest.mark.integration


def test_a_resident_without_gateway_raises_one_alarm_to_staff_until_paired(
    engine: Engine, receiver: NotificationReceiver
) -> None:
    provision(
        engine,
        {
            "caregivers": [{"code": "C1", "name": "李伟", "notify": [receiver.url("/C1")]}],
            "residents": [{"code": "R1", "name": "王秀英", "caregivers": ["C1"]}],
            "staff": [
                {
                    "username": "duty",
                    "display_name": "值班员",
                    "role": "staff",
                    "password_hash": "x",
                    "notify": [receiver.url("/duty")],
                },
                {
                    "username": "boss",
                    "display_name": "主管",
                    "role": "supervisor",
                    "password_hash": "x",
                    "notify": [receiver.url("/boss")],
                },
            ],
        },
    )
    d = make_desk(engine)
    d.worker.coverage = CoverageWatch(timedelta(minutes=5))
    d.at(0)
    assert receiver.received == [], "the first check waits one interval: homes that start need time"
    d.at(300)
    with d.sessions() as s:
        found = list(s.scalars(select(Alarm).where(Alarm.type == COVERAGE_ALARM)))
        assert [(a.severity, a.detail["gaps"]) for a in found] == [("technical", ["no_gateway", "no_sos"])]
    assert [r.path for r in receiver.received] == ["/duty"], "technical: staff, never the family"
    d.at(600)
    with d.sessions() as s:
        assert s.query(Alarm).filter(Alarm.type == COVERAGE_ALARM).count() == 1, "one alarm, not one per check"
    with d.sessions() as s, s.begin():
        rid = s.scalars(select(Resident.id)).one()
        s.add(Gateway(id="gw-1", resident_id=rid, state="online"))
        s.flush()
        s.add(
            Device(
                gateway_id="gw-1",
                name="sos-button",
                family="zigbee2mqtt",
                role="sos_button",
                last_seen=T0 + timedelta(seconds=800),
            )
        )
    d.at(900)
    with d.sessions() as s:
        assert [(a.status, a.outcome) for a in s.scalars(select(Alarm).where(Alarm.type == COVERAGE_ALARM))] == [
            ("resolved", "cleared")
        ]
