"""A simulated Bluetooth glucose meter behind its BLE-to-UART bridge, through a real gateway, to the server:
readings stored once with their meal context, and a severe low reaches the caregiver as an urgent
hypoglycaemia alarm while the home tells the resident what to do."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from firmware_sim.health_devices import GattBridge, GlucoseSample
from firmware_sim.installation import DEMO_PASSWORD, build_home, gateway_settings
from firmware_sim.native_devices import NativeDevice
from firmware_sim.serial_devices import PtyPort
from gateway.config import DeviceConfig, SerialPortConfig
from server.db.models import Alarm, Reading
from tests.integration.harness import provision, start_server, wait_until

pytestmark = pytest.mark.integration

DEVICES = [
    DeviceConfig(name="glucometer", family="ble-gatt", role="glucose_meter"),
    DeviceConfig(name="scale", family="native", role="scale"),
]


@pytest.fixture
def installation(tmp_path: Path, home_broker, central_broker, receiver):  # type: ignore[no-untyped-def]
    pty = PtyPort(tmp_path / "ttyGLUCOSE").plug()
    server = start_server(tmp_path, central_broker.address)
    provision(server, 1, [receiver.url("/caregiver/{code}")])
    settings = gateway_settings("gw-r001", "R001", home_broker.address, central_broker.address, tmp_path / "gw")
    settings = settings.model_copy(
        update={
            "devices": DEVICES,
            "serial": [SerialPortConfig(port=str(pty.path), family="ble-gatt", device="glucometer")],
        }
    )
    home = build_home(settings)
    home.start()
    assert all(d.transport.connected.wait(10) for d in home.gateway.serial), "serial port not opened"
    yield server, home, pty
    home.stop()
    server.stop()
    pty.unplug()


def rows(server, model):  # type: ignore[no-untyped-def]
    with server.services.sessions() as s:
        return s.query(model).all()


def test_a_severe_low_from_the_glucose_meter_reaches_the_caregiver(installation, receiver) -> None:  # type: ignore[no-untyped-def]
    server, home, pty = installation
    meter = GattBridge(pty)
    now = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)  # the meter's clock
    meter.glucose(GlucoseSample(41, 6.8, now - timedelta(minutes=30), meal="fasting", mg_dl=False))
    meter.glucose(GlucoseSample(42, 2.6, now, meal="before_meal", mg_dl=False))
    meter.resend_all()  # the meter reconnects and sends its memory again

    got = receiver.wait_for(1, timeout=20)
    assert len(got) == 1 and "低血糖" in got[0].doc["title"], got
    assert wait_until(lambda: home.gateway.outbox.count() == 0, 15)
    [alarm] = rows(server, Alarm)
    assert (alarm.type, alarm.severity, alarm.device) == ("hypoglycaemia", "urgent", "glucometer")

    said = [json.loads(p) for _t, p in home.actions]
    assert any(a.get("key") == "glucose_urgent_low" and "血糖很低" in a.get("text", "") for a in said), said

    glucose = sorted(
        (r.values["glucose_mmol_l"], r.ts.replace(tzinfo=None)) for r in rows(server, Reading) if r.metric == "glucose"
    )
    assert [g for g, _ in glucose] == [2.6, 6.8], "each measurement stored exactly once"
    contexts = {r.values["sequence"]: r.flags for r in rows(server, Reading) if r.metric == "glucose_context"}
    assert contexts[41.0] == ["fasting"] and contexts[42.0] == ["before_meal"]
    assert home.gateway.gateway.counters["duplicate_measurements"] == 2

    with httpx.Client(base_url=server.settings.base_url, timeout=20) as web:  # the doctor's view of it
        assert web.post("/api/v1/auth/token", data={"username": "doctor", "password": DEMO_PASSWORD}).status_code == 200
        body = web.get(
            "/api/v1/trends/residents/R001/chronic", params={"days": 7, "until": now.date().isoformat()}
        ).json()
        assert (body["glucose"]["readings"], body["glucose"]["hypo_level_2_events"]) == (2, 1)
        assert {c["context"]: c["readings"] for c in body["glucose"]["by_context"]}["fasting"] == 1
        page = web.get("/doctor/residents/R001", params={"days": 7, "until": now.date().isoformat()}).text
        assert (
            'data-context="before_meal"><td>餐前 before meal</td><td class="num">1</td><td class="num">2.6</td>' in page
        )


def test_native_weight_readings_are_stored_in_kilograms(installation) -> None:  # type: ignore[no-untyped-def]
    server, home, _ = installation
    NativeDevice("scale", lambda t, p: home.devices_link.publish(t, p, 1)).weight(78.45)
    assert wait_until(lambda: any(r.metric == "weight" for r in rows(server, Reading)), 15)
    [w] = [r for r in rows(server, Reading) if r.metric == "weight"]
    assert w.values == {"weight_kg": 78.45}


def test_the_demo_hypo_scenario_alerts_the_caregiver_and_seeds_the_doctors_trends(receiver, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import threading

    from anxin.ports import free_port
    from firmware_sim.demo import Demo, DemoOptions

    demo = Demo(
        DemoOptions(
            homes=2,
            notify=receiver.url("/caregiver/{code}"),
            port=free_port(),
            mqtt_port=free_port(),
            data_dir=tmp_path,
            auto_ack_after=None,
        )
    )
    try:
        demo.start()
        threading.Timer(0.5, demo.low_glucose).start()
        got = receiver.wait_for(1, timeout=20)
        assert got and got[0].path == "/caregiver/R001" and "低血糖" in got[0].doc["title"]
        assert demo.server is not None
        with httpx.Client(base_url=demo.server.settings.base_url, timeout=20) as web:
            assert (
                web.post("/api/v1/auth/token", data={"username": "doctor", "password": DEMO_PASSWORD}).status_code
                == 200
            )
            sugar = web.get("/api/v1/trends/residents/R001/chronic", params={"days": 28}).json()
            assert sugar["glucose"]["readings"] >= 4 * 27 and sugar["glucose"]["hypo_events"] >= 1
            heart = web.get("/api/v1/trends/residents/R002/chronic", params={"days": 28}).json()
            assert heart["weight"]["max_gain_3_days"] > 2.0 and "weight_gain" in heart["warnings"]
            cohort = [r["resident"] for r in web.get("/api/v1/trends/cohort").json()]
            assert set(cohort[:2]) == {"R001", "R002"}
    finally:
        demo.stop()
