"""Presence: a gateway's last will or silence raises one technical alarm to staff; its return clears it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select

from anxin import protocol
from firmware_sim.receiver import NotificationReceiver
from server.db.models import Alarm
from server.ingest import Ingest
from tests.integration.desk.conftest import Clock, make_desk, provision

pytestmark = pytest.mark.integration


def state(gw: str, value: str) -> tuple[str, bytes]:
    return protocol.state_topic(gw), json.dumps({"v": 1, "gw": gw, "state": value}).encode()


@pytest.fixture
def home(engine: Engine, receiver: NotificationReceiver) -> dict:
    doc = {
        "caregivers": [{"code": "C1", "name": "李伟", "notify": [receiver.url("/C1")]}],
        "residents": [{"code": "R1", "name": "王秀英", "caregivers": ["C1"]}],
        "gateways": [
            {
                "id": "gw-1",
                "resident": "R1",
                "devices": [{"name": f"dev-{i}", "family": "zigbee2mqtt", "role": "sos_button"} for i in range(4)],
            }
        ],
        "staff": [
            {
                "username": "duty",
                "display_name": "值班员",
                "role": "staff",
                "password_hash": "x",
                "notify": [receiver.url("/duty")],
            }
        ],
    }
    provision(engine, doc)
    return doc


def noted(ingest: Ingest, topic: str, payload: bytes) -> None:
    """A state message, written to the table as the presence book's next flush would."""
    ingest.handle(topic, payload)
    ingest.pipeline.presence.flush()


def alarms(d) -> list[Alarm]:
    with d.sessions() as s:
        return list(s.scalars(select(Alarm).order_by(Alarm.id)))


def test_silence_raises_one_alarm_to_staff_and_return_clears_it(
    engine: Engine, home: dict, receiver: NotificationReceiver
) -> None:
    clock = Clock()
    d = make_desk(engine, clock)
    ingest = Ingest(d.sessions, lambda *_: None, lambda _a: None, clock=clock)
    noted(ingest, *state("gw-1", "online"))
    d.at(9 * 60)
    assert alarms(d) == []
    d.at(10 * 60)
    d.at(20 * 60)
    found = alarms(d)
    assert [(a.type, a.severity, a.status) for a in found] == [("gateway_offline", "technical", "notified")]
    assert "10 min" in found[0].message
    # One alarm for the whole home, to staff only. This home has no supervisor with a channel, so that
    # stage is skipped at once and the policy comes back to staff (issue 16: never wait on nobody).
    paths = [r.path for r in receiver.received]
    assert set(paths) == {"/duty"} and len(paths) == 2, "staff only, once per stage, one alarm for the home"
    noted(ingest, *state("gw-1", "online"))
    d.at(20 * 60 + 5)
    assert [(a.status, a.outcome) for a in alarms(d)] == [("resolved", "cleared")]


def test_last_will_alarms_after_the_grace_period_but_a_quick_reconnect_does_not(engine: Engine, home: dict) -> None:
    clock = Clock()
    d = make_desk(engine, clock)
    ingest = Ingest(d.sessions, lambda *_: None, lambda _a: None, clock=clock)
    noted(ingest, *state("gw-1", "online"))
    clock.advance(5)
    noted(ingest, *state("gw-1", "offline"))  # the broker publishes the last will
    d.at(5 + 30)
    noted(ingest, *state("gw-1", "online"))  # the router came back within the grace period
    d.at(5 + 120)
    assert alarms(d) == []
    noted(ingest, *state("gw-1", "offline"))
    d.at(5 + 120 + 61)
    assert [a.message for a in alarms(d)] == [
        "the gateway went offline: its connection was lost (MQTT last will) or it was stopped"
    ]
