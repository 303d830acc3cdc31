"""The gateway worker driven directly (no broker): what reaches the outbox from each kind of device input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from firmware_sim.native_devices import payload
from firmware_sim.serial_devices import BpMeasurement
from gateway.config import DeviceConfig, GatewaySettings
from gateway.devices.ble_bpm import BpmStream
from gateway.devices.router import Router
from gateway.items import BridgeChange, DeviceMessages, LocalMessage, ServerCommand, Tick
from gateway.outbox import Outbox
from gateway.outbox_db import connect
from gateway.rules.defaults import build_engine
from gateway.service import Gateway
from gateway.supervision import LOCAL_BROKER
from tests.unit.gateway.worker import Clock, bodies, home  # noqa: F401 - the fixture


def test_a_monitor_resending_its_memory_is_stored_once(home) -> None:  # type: ignore[no-untyped-def]
    gw, outbox, _ = home
    stream = BpmStream("bpm", UTC)
    memory = [BpMeasurement(120 + i, 80, None, 70, datetime(2026, 11, 28, 7, i)) for i in range(3)]
    for m in memory:
        gw.process(DeviceMessages(stream.feed(m.frame())))
    for m in memory:  # reconnect: the monitor sends everything again
        gw.process(DeviceMessages(stream.feed(m.frame())))
    readings = bodies(outbox, "reading")
    assert [r["values"]["systolic"] for r in readings] == [120.0, 121.0, 122.0]
    assert readings[0]["measured_at"] == "2026-11-28T07:00:00+00:00"
    assert gw.counters["duplicate_measurements"] == 3


def test_implausible_native_reading_is_counted_never_stored(home) -> None:  # type: ignore[no-untyped-def]
    gw, outbox, _ = home
    gw.process(LocalMessage("anxin/dev/wifi-bp", json.dumps(payload("bp", systolic=80, diastolic=95)).encode()))
    gw.process(
        LocalMessage(
            "anxin/dev/wifi-bp",
            json.dumps(payload("bp", systolic=128, diastolic=85, pulse=66, flags=["body_movement"])).encode(),
        )
    )
    assert gw.counters["implausible_readings"] == 1
    readings = bodies(outbox, "reading")
    assert len(readings) == 1 and readings[0]["flags"] == ["body_movement"]


def test_silence_and_battery_become_technical_events_once(home) -> None:  # type: ignore[no-untyped-def]
    gw, outbox, clock = home
    clock.now += 301
    gw.process(Tick())
    gw.process(Tick())
    assert [(e["device"], e["kind"]) for e in bodies(outbox, "event")] == [("wifi-bp", "device_offline")]
    for _ in range(3):
        gw.process(LocalMessage("zigbee2mqtt/button", b'{"battery": 9, "battery_low": true, "linkquality": 40}'))
    events = [(e["device"], e["kind"]) for e in bodies(outbox, "event")]
    assert events.count(("button", "battery_low")) == 1, events


def test_broker_down_is_one_event_and_back_clears_it(home) -> None:  # type: ignore[no-untyped-def]
    gw, outbox, clock = home
    gw.process(BridgeChange(LOCAL_BROKER, False))
    clock.now += 90_000  # a whole day without the broker: no device is blamed
    gw.process(Tick())
    gw.process(BridgeChange(LOCAL_BROKER, True))
    assert [(e["device"], e["kind"]) for e in bodies(outbox, "event")] == [
        (LOCAL_BROKER, "bridge_offline"),
        (LOCAL_BROKER, "bridge_online"),
    ]


def test_native_sos_raises_the_alarm(home) -> None:  # type: ignore[no-untyped-def]
    gw, outbox, _ = home
    settings = gw.settings.model_copy(
        update={"devices": [*gw.settings.devices, DeviceConfig(name="b", family="native", role="sos_button")]}
    )
    gw.intake.router = Router(settings)
    gw.process(LocalMessage("anxin/dev/b", json.dumps(payload("button", action="sos")).encode()))
    assert [a["type"] for a in bodies(outbox, "alarm")] == ["sos"]


def test_a_local_broker_that_never_comes_up_is_reported(tmp_path: Path) -> None:
    settings = GatewaySettings(gateway_id="gw-t", data_dir=tmp_path)
    clock = Clock()
    outbox = Outbox(connect(settings.outbox_path))
    gw = Gateway(
        settings,
        Router(settings),
        build_engine(),
        outbox,
        publish_local=lambda t, p: None,
        wake_uplink=lambda: None,
        clock=clock,
        monotonic=clock,
    )
    clock.now += 61
    gw.process(Tick())
    assert [(e["device"], e["kind"]) for e in bodies(outbox, "event")] == [(LOCAL_BROKER, "bridge_offline")]
    outbox.close()


def test_the_resend_memory_survives_a_gateway_restart(home, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gw, outbox, clock = home
    stream = BpmStream("bpm", UTC)
    m = BpMeasurement(133, 84, None, 71, datetime(2026, 11, 28, 7, 5))
    gw.process(DeviceMessages(stream.feed(m.frame())))
    restarted = Gateway(
        gw.settings,
        gw.intake.router,
        build_engine(),
        outbox,
        publish_local=lambda t, p: None,
        wake_uplink=lambda: None,
        clock=clock,
        monotonic=clock,
    )
    restarted.start()  # loads what the first run remembered
    restarted.stop()
    restarted.process(DeviceMessages(stream.feed(m.frame())))  # the monitor resends after the restart
    assert [r["values"]["systolic"] for r in bodies(outbox, "reading")] == [133.0]
    assert restarted.counters["duplicate_measurements"] == 1


def test_permit_join_command_opens_the_zigbee_network(tmp_path: Path) -> None:
    from anxin.protocol import Command

    settings = GatewaySettings(gateway_id="gw-t", data_dir=tmp_path)
    published: list[tuple[str, bytes]] = []
    outbox = Outbox(connect(settings.outbox_path))
    gw = Gateway(
        settings,
        Router(settings),
        build_engine(),
        outbox,
        publish_local=lambda t, p: published.append((t, p)),
        wake_uplink=lambda: None,
    )
    gw.process(ServerCommand(Command("permit_join", {"seconds": 180})))
    gw.process(ServerCommand(Command("permit_join", {"seconds": "forever"})))
    assert [(t, json.loads(p)) for t, p in published] == [
        ("zigbee2mqtt/bridge/request/permit_join", {"value": True, "time": 180})
    ]
    outbox.close()


def test_a_nan_from_a_sensor_is_rejected_and_counted_never_forwarded(tmp_path: Path) -> None:
    settings = GatewaySettings(
        gateway_id="gw-t",
        data_dir=tmp_path,
        devices=[DeviceConfig(name="thermo", family="zigbee2mqtt", role="climate", model="WSDCGQ11LM")],
    )
    outbox = Outbox(connect(settings.outbox_path))
    gw = Gateway(
        settings, Router(settings), build_engine(), outbox, publish_local=lambda t, p: None, wake_uplink=lambda: None
    )
    gw.process(LocalMessage("zigbee2mqtt/thermo", b'{"temperature": NaN, "humidity": 40}'))
    gw.process(LocalMessage("zigbee2mqtt/thermo", b'{"temperature": 21.5, "humidity": 40}'))
    assert gw.counters["parse_errors"] == 1
    assert [r["values"]["temperature"] for r in bodies(outbox, "reading")] == [21.5]
    outbox.close()
