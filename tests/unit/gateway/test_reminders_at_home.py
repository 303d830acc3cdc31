"""Reminders pushed to the gateway are said offline at their time; a BP reading or the button confirms them."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from anxin import protocol
from anxin.reminders_document import RemindersError, parse
from gateway.config import DeviceConfig, GatewaySettings
from gateway.devices.router import Router
from gateway.items import BridgeChange, DeviceMessages, LocalMessage, ServerCommand, Tick
from gateway.model import DeviceEvent, EventKind
from gateway.outbox import Outbox
from gateway.outbox_db import connect
from gateway.rules.defaults import build_engine
from gateway.service import Gateway

TZ = ZoneInfo("Asia/Shanghai")
BP = {
    "id": "bp-morning",
    "kind": "measurement",
    "what": "早上的血压",
    "metric": "blood_pressure",
    "rrule": "FREQ=DAILY;BYHOUR=8;BYMINUTE=0",
    "start": "2026-03-01T00:00:00",
    "repeats": 3,
    "repeat_every_min": 10,
}
PILL = {
    "id": "amlodipine",
    "kind": "medication",
    "what": "苯磺酸氨氯地平 一片",
    "rrule": "FREQ=DAILY;BYHOUR=20",
    "start": "2026-03-01T00:00:00",
}


class Home:
    def __init__(self, tmp_path: Path, start: datetime) -> None:
        settings = GatewaySettings(
            gateway_id="gw-rem",
            resident="R001",
            data_dir=tmp_path,
            devices=[DeviceConfig(name="bp-monitor", family="native", role="bp_monitor")],
        )
        self.outbox = Outbox(connect(settings.outbox_path))
        self.now = start.timestamp()
        self.published: list[dict] = []
        self.gw = Gateway(
            settings,
            Router(settings),
            build_engine({}, "Asia/Shanghai", "R001"),
            self.outbox,
            publish_local=lambda t, p: self.published.append(json.loads(p)),
            wake_uplink=lambda: None,
            clock=lambda: self.now,
            monotonic=lambda: self.now,
            sleep=lambda s: None,
        )
        self.gw.rules.restore()
        self.gw.process(BridgeChange("local-broker", True))

    def push(self, version: int, *reminders: dict) -> None:
        self.gw.process(
            ServerCommand(protocol.Command("reminders_config", {"version": version, "reminders": list(reminders)}))
        )

    def until(self, when: datetime, step: float = 30) -> None:
        while self.now < when.timestamp():
            self.now = min(self.now + step, when.timestamp())
            self.gw.process(Tick())

    def said(self) -> list[tuple[str, str]]:
        return [(a["key"], a["text"]) for a in self.published if a["action"] == "say"]

    def lane(self, lane: str) -> list[dict]:
        return [e.body for e in self.outbox.pending(1000) if e.lane == lane]


@pytest.fixture
def home(tmp_path: Path):  # type: ignore[no-untyped-def]
    h = Home(tmp_path, datetime(2026, 3, 2, 7, 0, tzinfo=TZ))
    h.push(1, BP, PILL)
    yield h
    h.outbox.close()


def test_a_measurement_reminder_is_said_at_its_time_and_confirmed_by_the_reading(home: Home) -> None:
    assert home.lane("event")[-1] == {"device": None, "kind": "reminders_applied", "detail": {"version": 1}}
    home.until(datetime(2026, 3, 2, 7, 59, 30, tzinfo=TZ))
    assert home.said() == [], "said before its time"
    home.until(datetime(2026, 3, 2, 8, 5, tzinfo=TZ))
    assert home.said() == [("reminder_measurement", "该量血压了：早上的血压。请坐好，绑好袖带，量好后会自动记下。")]
    home.gw.process(
        LocalMessage(
            "anxin/dev/bp-monitor", json.dumps({"v": 1, "type": "bp", "systolic": 132, "diastolic": 84}).encode()
        )
    )
    assert home.said()[-1][0] == "reminder_thanks"
    confirmed = [e for e in home.lane("event") if e["kind"] == "reminder_confirmed"]
    assert len(confirmed) == 1 and confirmed[0]["detail"]["by"] == "measurement"
    assert confirmed[0]["detail"]["due"] == "2026-03-02T00:00:00+00:00"  # 08:00 in Beijing
    home.until(datetime(2026, 3, 2, 9, 0, tzinfo=TZ))
    assert [k for k, _ in home.said()] == ["reminder_measurement", "reminder_thanks"], "repeated after confirmation"
    assert [a["type"] for a in home.lane("alarm") if a["type"].startswith("reminder")] == []


def test_unanswered_it_is_repeated_then_reported_missed_as_a_warning(home: Home) -> None:
    home.until(datetime(2026, 3, 2, 20, 45, tzinfo=TZ))
    said = [k for k, _ in home.said()]
    assert said.count("reminder_measurement") == 3 and said.count("reminder_medication") == 3
    missed = [a for a in home.lane("alarm") if a["type"] == "reminder_missed"]
    assert [(a["severity"], a["detail"]["reminder"]) for a in missed] == [
        ("warning", "bp-morning"),
        ("warning", "amlodipine"),
    ]
    assert [e["detail"]["reminder"] for e in home.lane("event") if e["kind"] == "reminder_missed"] == [
        "bp-morning",
        "amlodipine",
    ]


def test_the_button_confirms_a_medication_reminder_and_it_survives_a_restart(home: Home, tmp_path: Path) -> None:
    home.until(datetime(2026, 3, 2, 20, 0, 30, tzinfo=TZ))
    assert [k for k, _ in home.said()][-1] == "reminder_medication"
    # The gateway restarts while the reminder is being said: it is neither forgotten nor said from the start.
    again = Home.__new__(Home)
    again.__dict__.update(home.__dict__)
    again.gw = Gateway(
        home.gw.settings,
        home.gw.intake.router,
        build_engine({}, "Asia/Shanghai", "R001"),
        home.outbox,
        publish_local=lambda t, p: home.published.append(json.loads(p)),
        wake_uplink=lambda: None,
        clock=lambda: again.now,
        monotonic=lambda: again.now,
        sleep=lambda s: None,
    )
    again.gw.rules.restore()
    again.gw.process(DeviceMessages([DeviceEvent("pi-cancel-button", EventKind.FINE)]))
    confirmed = [e["detail"] for e in again.lane("event") if e["kind"] == "reminder_confirmed"]
    assert [(c["reminder"], c["by"]) for c in confirmed] == [("amlodipine", "button")]


def test_bad_reminders_are_refused_with_a_reason_and_the_old_ones_stay(home: Home) -> None:
    with pytest.raises(RemindersError, match="RRULE"):
        parse({"version": 2, "reminders": [{**PILL, "rrule": "EVERY DAY PLEASE"}]})
    home.push(2, {**PILL, "rrule": "EVERY DAY PLEASE"})
    rejected = home.lane("event")[-1]
    assert rejected["kind"] == "reminders_rejected" and "RRULE" in rejected["detail"]["error"]
    home.until(datetime(2026, 3, 2, 8, 1, tzinfo=TZ))
    assert [k for k, _ in home.said()] == ["reminder_measurement"], "version 1 must still be in force"
