"""Supervision with injected time: a day of silence, batteries and bridges in milliseconds."""

from __future__ import annotations

from gateway.config import DeviceConfig, SerialPortConfig
from gateway.model import DeviceEvent, EventKind, Reading
from gateway.supervision import LOCAL_BROKER, ZIGBEE2MQTT, SupervisionState, Supervisor, serial_bridge

HOUR = 3600.0
BUTTON = DeviceConfig(name="button", family="zigbee2mqtt", role="sos_button", model="TS0215A_sos")
RADAR = DeviceConfig(name="radar", family="zigbee2mqtt", role="fall_radar", model="MIR-HE200-TY")
WIFI = DeviceConfig(name="wifi", family="native", role="motion", report_interval_s=120)
PENDANT = DeviceConfig(name="pendant", family="rflink", role="sos_button", options={"protocol": "EV1527", "id": "1"})
BPM = DeviceConfig(name="bpm", family="ble-bpm", role="bp_monitor")
PORTS = [
    SerialPortConfig(port="/dev/ttyUSB0", family="rflink"),
    SerialPortConfig(port="/dev/ttyUSB1", family="ble-bpm", device="bpm"),
]
SUP = Supervisor([BUTTON, RADAR, WIFI, PENDANT, BPM], PORTS)


def started(now: float = 0.0, sup: Supervisor = SUP) -> SupervisionState:
    """Supervision just after start, with the broker and serial ports connected."""
    s = sup.initial(now)
    for bridge in sup.own_bridges:
        s, ev = sup.bridge(s, bridge, True, now)
        assert ev == [], "a bridge coming up the first time is not news"
    return s


def kinds(events: list[DeviceEvent]) -> list[tuple[str, str]]:
    return [(e.device, e.kind.value) for e in events]


def status(device: str, **values: float) -> Reading:
    return Reading(device, "device_status", values)


def test_silent_device_goes_offline_once_and_recovers() -> None:
    s = started()
    s, ev = SUP.tick(s, 119.0)
    assert ev == []
    s, ev = SUP.tick(s, 121.0)
    assert kinds(ev) == [("wifi", "device_offline")] and ev[0].detail["reason"] == "silent"
    s, ev = SUP.tick(s, 500.0)
    assert ev == [], "an offline device is reported once, not on every tick"
    s, ev = SUP.observe(s, DeviceEvent("wifi", EventKind.MOTION), 600.0)
    assert kinds(ev) == [("wifi", "device_online")]
    s, ev = SUP.tick(s, 700.0)
    assert ev == []


def test_family_defaults_radar_one_hour_button_25_hours_one_way_radios_never() -> None:
    s = started()
    s, _ = SUP.observe(s, DeviceEvent("wifi", EventKind.HEARTBEAT), 3000.0)  # keep wifi out of the way
    s, ev = SUP.tick(s, HOUR + 1)
    assert ("radar", "device_offline") in kinds(ev) and ("button", "device_offline") not in kinds(ev)
    s, ev = SUP.tick(s, 25 * HOUR + 1)
    offline = {d for d, k in kinds(ev) if k == "device_offline"}
    assert "button" in offline and not offline & {"pendant", "bpm"}


def test_availability_offline_is_reported_at_once() -> None:
    s = started()
    s, ev = SUP.observe(s, DeviceEvent("button", EventKind.DEVICE_OFFLINE), 10.0)
    assert kinds(ev) == [("button", "device_offline")] and ev[0].detail["reason"] == "availability"
    s, ev = SUP.observe(s, DeviceEvent("button", EventKind.DEVICE_OFFLINE), 11.0)
    assert ev == []
    s, ev = SUP.observe(s, DeviceEvent("button", EventKind.DEVICE_ONLINE), 12.0)
    assert kinds(ev) == [("button", "device_online")]


def test_low_battery_raises_once_and_recovery_needs_hysteresis() -> None:
    s = started()
    s, ev = SUP.observe(s, status("button", battery=19, linkquality=80), 1.0)
    assert kinds(ev) == [("button", "battery_low")] and ev[0].detail == {"battery": 19, "devices": ["button"]}
    s, ev = SUP.observe(s, DeviceEvent("button", EventKind.BATTERY_LOW), 2.0)
    assert ev == []
    s, ev = SUP.observe(s, status("button", battery=24), 3.0)
    assert ev == [], "a battery hovering at the limit must not flap"
    s, ev = SUP.observe(s, status("button", battery=100, battery_low=0.0), 4.0)
    assert kinds(ev) == [("button", "battery_ok")]
    assert s.status["button"] == {"battery": 100, "linkquality": 80, "battery_low": 0.0}


def test_battery_low_flag_without_percentage() -> None:
    s = started()
    s, ev = SUP.observe(s, status("button", battery_low=1.0), 1.0)
    assert kinds(ev) == [("button", "battery_low")]
    s, ev = SUP.observe(s, status("button", battery_low=0.0), 2.0)
    assert kinds(ev) == [("button", "battery_ok")]


def test_local_broker_down_is_one_bridge_event_not_one_per_device() -> None:
    s = started()
    s, ev = SUP.bridge(s, LOCAL_BROKER, False, 10.0)
    assert kinds(ev) == [(LOCAL_BROKER, "bridge_offline")]
    s, ev = SUP.bridge(s, LOCAL_BROKER, False, 11.0)
    assert ev == []
    s, ev = SUP.tick(s, 30 * HOUR)
    assert ev == [], "devices behind a dead broker are explained by it"
    s, ev = SUP.bridge(s, LOCAL_BROKER, True, 30 * HOUR)
    assert kinds(ev) == [(LOCAL_BROKER, "bridge_online")]
    s, ev = SUP.tick(s, 30 * HOUR + 60)
    assert ev == [], "after the bridge returns its devices get a fresh interval"
    s, ev = SUP.tick(s, 30 * HOUR + 121)
    assert kinds(ev) == [("wifi", "device_offline")]


def test_zigbee2mqtt_bridge_state_covers_only_zigbee_devices() -> None:
    s = started()
    s, ev = SUP.observe(s, DeviceEvent(ZIGBEE2MQTT, EventKind.BRIDGE_OFFLINE), 5.0)
    assert kinds(ev) == [(ZIGBEE2MQTT, "bridge_offline")]
    s, ev = SUP.observe(s, DeviceEvent("button", EventKind.DEVICE_OFFLINE), 6.0)
    assert ev == [], "zigbee devices dropping with their bridge are not reported one by one"
    s, ev = SUP.tick(s, 200.0)
    assert kinds(ev) == [("wifi", "device_offline")]


def test_serial_port_is_the_bridge_of_its_devices() -> None:
    s = started()
    s, ev = SUP.bridge(s, serial_bridge("/dev/ttyUSB1"), False, 1.0)
    assert kinds(ev) == [("serial:/dev/ttyUSB1", "bridge_offline")]
    assert SUP.watches["bpm"].bridges == ("serial:/dev/ttyUSB1",)
    assert SUP.watches["pendant"].bridges == ("serial:/dev/ttyUSB0",)


def test_unknown_device_reported_once_an_hour_and_never_for_configured_ones() -> None:
    s = started()
    stranger = DeviceEvent("0x00158d", EventKind.UNKNOWN_DEVICE, detail={"family": "zigbee2mqtt"})
    s, ev = SUP.observe(s, stranger, 1.0)
    assert ev == [stranger]
    s, ev = SUP.observe(s, stranger, 2.0)
    assert ev == []
    s, ev = SUP.observe(s, stranger, HOUR + 2)
    assert ev == [stranger]
    s, ev = SUP.observe(s, DeviceEvent("button", EventKind.UNKNOWN_DEVICE), 3.0)
    assert ev == []


def test_configured_interval_zero_disables_supervision() -> None:
    sup = Supervisor([DeviceConfig(name="x", family="native", role="motion", report_interval_s=0)])
    _s, ev = sup.tick(started(sup=sup), 10 * HOUR)
    assert ev == []


def test_a_broker_or_port_that_never_comes_up_after_start_is_offline() -> None:
    s = SUP.initial(0.0)
    s, ev = SUP.bridge(s, LOCAL_BROKER, True, 5.0)
    s, ev = SUP.tick(s, 59.0)
    assert ev == [], "a grace period to connect"
    s, ev = SUP.tick(s, 61.0)
    assert kinds(ev) == [("serial:/dev/ttyUSB0", "bridge_offline"), ("serial:/dev/ttyUSB1", "bridge_offline")]
    s, ev = SUP.tick(s, 100.0)
    assert ev == [], "reported once"
    s, ev = SUP.bridge(s, serial_bridge("/dev/ttyUSB0"), True, 110.0)
    assert kinds(ev) == [("serial:/dev/ttyUSB0", "bridge_online")]


def test_availability_offline_during_a_bridge_outage_announces_no_recovery_later() -> None:
    # Found by hypothesis: the bridge's outage explains the device's silence, so neither the offline
    # nor a later "back online" may be reported for the device itself.
    s = started()
    s, ev = SUP.bridge(s, LOCAL_BROKER, False, 10.0)
    assert kinds(ev) == [(LOCAL_BROKER, "bridge_offline")]
    s, ev = SUP.observe(s, DeviceEvent("wifi", EventKind.DEVICE_OFFLINE), 11.0)
    assert ev == []
    s, ev = SUP.observe(s, DeviceEvent("wifi", EventKind.MOTION), 12.0)
    assert ev == [], "a recovery was announced for an offline that was never reported"
