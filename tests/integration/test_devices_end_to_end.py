"""Every kind of device reaches the server through a real gateway: RFLink and BLE blood-pressure over
pseudo-terminals, native JSON and zigbee2mqtt over the home's Mosquitto."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from firmware_sim.installation import build_home, gateway_settings
from firmware_sim.mqtt_devices import FallRadar, Sensor
from firmware_sim.native_devices import NativeDevice
from firmware_sim.serial_devices import BpmBridge, BpMeasurement, PtyPort, RflinkDongle
from gateway.config import DeviceConfig, SerialPortConfig
from server.db.models import Alarm, IngestedEvent, Reading
from tests.integration.harness import provision, start_server, wait_until

pytestmark = pytest.mark.integration

DEVICES = [
    DeviceConfig(name="sos-button", family="zigbee2mqtt", model="TS0215A_sos", role="sos_button"),
    DeviceConfig(name="pendant", family="rflink", role="sos_button", options={"protocol": "EV1527", "id": "0a2b3c"}),
    DeviceConfig(name="bpm", family="ble-bpm", role="bp_monitor"),
    DeviceConfig(name="wifi-bp", family="native", role="bp_monitor"),
    DeviceConfig(name="radar", family="zigbee2mqtt", model="MIR-HE200-TY", role="fall_radar"),
    DeviceConfig(name="door", family="zigbee2mqtt", model="MCCGQ11LM", role="door"),
    DeviceConfig(name="bed-sensor", family="native", role="motion", report_interval_s=3),
]


@pytest.fixture
def installation(tmp_path: Path, home_broker, central_broker, receiver):  # type: ignore[no-untyped-def]
    rf, ble = PtyPort(tmp_path / "ttyRFLINK").plug(), PtyPort(tmp_path / "ttyBPM").plug()
    server = start_server(tmp_path, central_broker.address)
    provision(server, 1, [receiver.url("/caregiver/{code}")])
    settings = gateway_settings("gw-r001", "R001", home_broker.address, central_broker.address, tmp_path / "gw")
    settings = settings.model_copy(
        update={
            "devices": DEVICES,
            "serial": [
                SerialPortConfig(port=str(rf.path), family="rflink"),
                SerialPortConfig(port=str(ble.path), family="ble-bpm", device="bpm"),
            ],
        }
    )
    home = build_home(settings)
    home.start()
    assert all(d.transport.connected.wait(10) for d in home.gateway.serial), "serial ports not opened"
    yield server, home, rf, ble
    home.stop()
    server.stop()
    rf.unplug()
    ble.unplug()


def rows(server, model):  # type: ignore[no-untyped-def]
    with server.services.sessions() as s:
        return s.query(model).all()


def events(server, kind: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [e.body for e in rows(server, IngestedEvent) if e.lane == "event" and e.body.get("kind") == kind]


def test_rflink_pendant_press_repeated_on_air_is_one_alarm(installation, receiver) -> None:  # type: ignore[no-untyped-def]
    server, home, rf, _ = installation
    dongle = RflinkDongle(rf)
    dongle.banner()
    dongle.press("EV1527", "0a2b3c", repeats=4)
    got = receiver.wait_for(1, timeout=15)
    assert len(got) == 1 and "紧急求助" in got[0].doc["title"]
    assert wait_until(lambda: home.gateway.outbox.count() == 0, 10)
    alarms = rows(server, Alarm)
    assert [(a.type, a.device) for a in alarms] == [("sos", "pendant")]
    assert receiver.wait_for(2, timeout=1) == got, "a repeated transmission must not notify twice"


def test_blood_pressure_from_ble_and_wifi_monitors_stored_once_with_quality_flags(installation) -> None:  # type: ignore[no-untyped-def]
    server, home, _, ble = installation
    bridge = BpmBridge(ble)
    bridge.measure(BpMeasurement(142, 91, None, 77, datetime(2026, 11, 28, 7, 30), flags=frozenset({"cuff_too_loose"})))
    bridge.measure(BpMeasurement(82, 95, None, 60, datetime(2026, 11, 28, 7, 31)))  # implausible: rejected
    bridge.resend_stored()  # the monitor reconnects and sends its memory again
    NativeDevice("wifi-bp", lambda t, p: home.devices_link.publish(t, p, 1)).blood_pressure(
        128, 84, 66, flags=("body_movement",)
    )

    def bp_rows():  # type: ignore[no-untyped-def]
        return [r for r in rows(server, Reading) if r.metric == "blood_pressure"]

    assert wait_until(lambda: len(bp_rows()) >= 2, 15), rows(server, Reading)
    assert wait_until(lambda: home.gateway.gateway.counters["duplicate_measurements"] == 1, 10)
    assert wait_until(lambda: home.gateway.outbox.count() == 0, 10)
    stored = sorted((r.device, r.values["systolic"], r.values["diastolic"], tuple(r.flags)) for r in bp_rows())
    assert stored == [("bpm", 142.0, 91.0, ("cuff_too_loose",)), ("wifi-bp", 128.0, 84.0, ("body_movement",))]
    assert home.gateway.serial[1].stream.counters["implausible_readings"] == 2  # sent, then resent


def test_zigbee_fall_radar_door_and_a_dead_battery_reach_the_server(installation) -> None:  # type: ignore[no-untyped-def]
    server, home, _, _ = installation
    publish = lambda t, p: home.devices_link.publish(t, p, 1)  # noqa: E731
    FallRadar("radar", "MIR-HE200-TY", publish).fall("fall")
    door = Sensor("door", "MCCGQ11LM", publish)
    door.door(True)
    door.drain(8)
    door.drain(7)
    assert wait_until(
        lambda: events(server, "fall") and events(server, "door_open") and events(server, "battery_low"), 15
    )
    assert len(events(server, "battery_low")) == 1, "a low battery is one event, not one per report"


def test_unplugged_dongle_is_one_bridge_offline_event(installation) -> None:  # type: ignore[no-untyped-def]
    server, _home, rf, _ = installation
    rf.unplug()
    assert wait_until(lambda: events(server, "bridge_offline"), 15)
    assert [e["device"] for e in events(server, "bridge_offline")] == [f"serial:{rf.path}"]
    rf.plug()
    assert wait_until(lambda: events(server, "bridge_online"), 20)


def test_a_device_going_silent_and_coming_back(installation) -> None:  # type: ignore[no-untyped-def]
    server, home, _, _ = installation
    sensor = NativeDevice("bed-sensor", lambda t, p: home.devices_link.publish(t, p, 1))
    sensor.heartbeat()
    assert wait_until(lambda: events(server, "device_offline"), 20), "3 s of silence must be noticed"
    assert [e["device"] for e in events(server, "device_offline")] == ["bed-sensor"]
    sensor.heartbeat()
    assert wait_until(lambda: events(server, "device_online"), 15)
    assert not events(server, "heartbeat"), "heartbeats are last-seen, not forwarded"


def test_local_broker_down_is_one_bridge_event(installation, home_broker) -> None:  # type: ignore[no-untyped-def]
    server, _home, _, _ = installation
    home_broker.stop()
    assert wait_until(lambda: events(server, "bridge_offline"), 20)
    home_broker.start()
    assert wait_until(lambda: events(server, "bridge_online"), 30)
    offline = events(server, "bridge_offline")
    assert [e["device"] for e in offline] == ["local-broker"]
    assert not [e for e in events(server, "device_offline") if e["device"] != "bed-sensor"], (
        "zigbee and native devices behind the dead broker must not be reported one by one"
    )
