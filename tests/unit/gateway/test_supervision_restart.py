"""Who is offline or low on battery survives a gateway restart, so recovery afterwards clears the alarm."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.config import DeviceConfig, GatewaySettings
from gateway.devices.router import Router
from gateway.items import LocalMessage
from gateway.outbox import Outbox
from gateway.outbox_db import connect
from gateway.rules import push
from gateway.rules.defaults import build_engine
from gateway.service import Gateway

BUTTON = DeviceConfig(name="sos-btn", family="zigbee2mqtt", role="sos_button", model="TS0215A_sos")
DOOR = DeviceConfig(name="door", family="zigbee2mqtt", role="door", model="MCCGQ11LM")


class Clock:
    def __init__(self) -> None:
        self.now = 1_764_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def outbox(tmp_path: Path):  # type: ignore[no-untyped-def]
    box = Outbox(connect(tmp_path / "outbox.db"))
    yield box
    box.close()


def boot(tmp_path: Path, outbox: Outbox, clock: Clock, devices: list[DeviceConfig]) -> Gateway:
    """A gateway (re)started on the same outbox: start() restores, the worker thread is not needed."""
    settings = GatewaySettings(gateway_id="gw", data_dir=tmp_path, devices=devices)
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
    gw.start()
    gw.stop()
    return gw


def alarms(outbox: Outbox) -> list[tuple[str, str, list[str]]]:
    return [
        (e.body["type"], e.body["change"], e.body["detail"]["devices"])
        for e in outbox.pending(1000)
        if e.lane == "alarm"
    ]


def test_offline_and_low_battery_clear_after_a_restart(tmp_path: Path, outbox: Outbox) -> None:
    clock = Clock()
    gw = boot(tmp_path, outbox, clock, [BUTTON, DOOR])
    gw.process(LocalMessage("zigbee2mqtt/sos-btn/availability", b'{"state":"offline"}'))
    gw.process(LocalMessage("zigbee2mqtt/door", b'{"battery": 5, "linkquality": 40, "contact": true}'))
    clock.now += 600
    gw = boot(tmp_path, outbox, clock, [BUTTON, DOOR])  # power cut, update: the gateway starts again
    gw.process(LocalMessage("zigbee2mqtt/sos-btn/availability", b'{"state":"online"}'))
    gw.process(LocalMessage("zigbee2mqtt/sos-btn", b'{"battery": 100, "linkquality": 90}'))
    gw.process(LocalMessage("zigbee2mqtt/door", b'{"battery": 100, "linkquality": 90, "contact": true}'))
    assert alarms(outbox) == [
        ("device_offline", "raise", ["sos-btn"]),
        ("battery_low", "raise", ["door"]),
        ("device_offline", "clear", []),
        ("battery_low", "clear", []),
    ]


def test_a_second_device_going_offline_after_a_restart_is_an_update_listing_both(
    tmp_path: Path, outbox: Outbox
) -> None:
    clock = Clock()
    gw = boot(tmp_path, outbox, clock, [BUTTON, DOOR])
    gw.process(LocalMessage("zigbee2mqtt/sos-btn/availability", b'{"state":"offline"}'))
    gw = boot(tmp_path, outbox, clock, [BUTTON, DOOR])
    gw.process(LocalMessage("zigbee2mqtt/door/availability", b'{"state":"offline"}'))
    assert alarms(outbox)[-1] == ("device_offline", "update", ["door", "sos-btn"])


def test_a_device_removed_from_the_configuration_while_offline_is_cleared(tmp_path: Path, outbox: Outbox) -> None:
    clock = Clock()
    gw = boot(tmp_path, outbox, clock, [BUTTON, DOOR])
    gw.process(LocalMessage("zigbee2mqtt/door/availability", b'{"state":"offline"}'))
    boot(tmp_path, outbox, clock, [BUTTON])  # the installer took the door sensor out
    assert alarms(outbox)[-1] == ("device_offline", "clear", [])


def test_state_from_before_supervision_kept_its_own_is_taken_over(tmp_path: Path, outbox: Outbox) -> None:
    outbox.set_meta(
        push.META_STATE,
        json.dumps({"supervision": {"offline": ["sos-btn"], "battery_low": [], "bridge_offline": [], "tampered": {}}}),
    )
    gw = boot(tmp_path, outbox, Clock(), [BUTTON, DOOR])
    gw.process(LocalMessage("zigbee2mqtt/sos-btn", b'{"battery": 100, "linkquality": 90}'))
    assert alarms(outbox) == [("device_offline", "clear", [])]
