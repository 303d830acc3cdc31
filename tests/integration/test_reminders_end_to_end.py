"""Reminders from the doctor's API to the home and back: said offline at their time, confirmed by a BP
reading, and a missed one reaches the first caregiver as a warning; adherence on the API and in FHIR."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from firmware_sim.installation import SOS_DEVICE, build_home, gateway_settings
from gateway.config import DeviceConfig
from tests.integration.harness import auth_headers, provision, start_server, wait_until

pytestmark = pytest.mark.integration
TZ = ZoneInfo("Asia/Shanghai")
BP_DEVICE = DeviceConfig(name="bp-monitor", family="native", role="bp_monitor")


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def installation(tmp_path, home_broker, central_broker, receiver):  # type: ignore[no-untyped-def]
    server = start_server(tmp_path, central_broker.address)
    provision(server, 1, [receiver.url("/caregiver/{code}")])
    settings = gateway_settings("gw-r001", "R001", home_broker.address, central_broker.address, tmp_path / "gw")
    home = build_home(settings.model_copy(update={"devices": [SOS_DEVICE, BP_DEVICE]}))
    home.start()
    yield server, home
    home.stop()
    server.stop()


def said(home) -> list[str]:  # type: ignore[no-untyped-def]
    keys = []
    for _topic, payload in list(home.actions):
        doc = json.loads(payload)
        if doc.get("action") == "say":
            keys.append(doc["key"])
    return keys


def test_reminders_are_said_offline_confirmed_by_bp_and_a_missed_one_warns_the_caregiver(
    installation, central_broker, receiver
):  # type: ignore[no-untyped-def]
    server, home = installation
    base = server.settings.base_url
    tomorrow = (datetime.now(TZ) + timedelta(days=1)).date()
    start = datetime.combine(tomorrow, datetime.min.time())
    reminders = [
        {
            "id": "bp-morning",
            "kind": "measurement",
            "what": "早上的血压",
            "metric": "blood_pressure",
            "rrule": "FREQ=DAILY;BYHOUR=8;BYMINUTE=0",
            "start": start.isoformat(),
        },
        {
            "id": "amlodipine",
            "kind": "medication",
            "what": "苯磺酸氨氯地平 5 毫克 一片",
            "rrule": "FREQ=DAILY;BYHOUR=20;BYMINUTE=0",
            "start": start.isoformat(),
            "repeats": 3,
        },
    ]
    duty = auth_headers(base, "duty")
    refused = httpx.put(f"{base}/api/v1/residents/1/reminders", json=reminders, headers=duty, timeout=15)
    assert refused.status_code == 403, "the duty desk does not prescribe"
    doctor = auth_headers(base, "doctor")
    bad = httpx.put(
        f"{base}/api/v1/residents/1/reminders",
        json=[{**reminders[0], "rrule": "DAILY AT 8"}],
        headers=doctor,
        timeout=15,
    )
    assert bad.status_code == 422 and "RRULE" in bad.text
    r = httpx.put(f"{base}/api/v1/residents/1/reminders", json=reminders, headers=doctor, timeout=15)
    assert r.status_code == 202, r.text
    version = r.json()["version"]
    gw = home.gateway.gateway
    assert wait_until(lambda: gw.rules.reminders_version == version, timeout=20), "the home never got them"

    central_broker.stop()  # from here on the home is offline
    clock = FakeClock(datetime.combine(tomorrow, datetime.min.time(), TZ) + timedelta(hours=7, minutes=59))
    gw.clocks.wall = clock
    clock.now += 90  # 08:00:30
    assert wait_until(lambda: "reminder_measurement" in said(home), timeout=15), said(home)
    home.devices_link.publish(
        "anxin/dev/bp-monitor",
        json.dumps({"v": 1, "type": "bp", "systolic": 134, "diastolic": 83, "pulse": 70}).encode(),
        1,
    )
    assert wait_until(lambda: "reminder_thanks" in said(home), timeout=15), said(home)

    clock.now = datetime.combine(tomorrow, datetime.min.time(), TZ).timestamp() + 20 * 3600 + 5
    for n in (1, 2, 3):  # 20:00, 20:10, 20:20: said three times, nobody answers
        assert wait_until(lambda n=n: said(home).count("reminder_medication") == n, timeout=15), said(home)
        clock.now += 600
    assert wait_until(lambda: any(e.body.get("type") == "reminder_missed" for e in gw.outbox.alarms()), timeout=15)

    central_broker.start()  # back online: the warning travels up and the first caregiver hears of it
    assert wait_until(
        lambda: any("服药/测量提醒未确认" in (x.doc.get("title") or "") for x in receiver.received), timeout=60
    ), [x.doc.get("title") for x in receiver.received]
    got = next(x for x in receiver.received if "服药/测量提醒未确认" in (x.doc.get("title") or ""))
    assert got.path == "/caregiver/R001"

    def adherence() -> dict:
        rows = httpx.get(f"{base}/api/v1/residents/1/adherence", headers=doctor, timeout=15).json()
        return {a["id"]: (a["confirmed"], a["missed"]) for a in rows}

    assert wait_until(lambda: adherence() == {"bp-morning": (1, 0), "amlodipine": (0, 1)}, timeout=30), adherence()
