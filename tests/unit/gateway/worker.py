"""A gateway worker driven directly by the unit tests (no broker, no threads): a clock moved by hand, a home
with devices, a worker with pushed rules, and what reached the outbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anxin import protocol
from gateway.config import DeviceConfig, GatewaySettings, SerialPortConfig
from gateway.devices.router import Router
from gateway.items import BridgeChange, ServerCommand
from gateway.outbox import Outbox
from gateway.outbox_db import connect
from gateway.rules.defaults import build_engine
from gateway.service import Gateway


class Clock:
    """Wall and monotonic time in one, moved by hand (`clock.now += 60`)."""

    def __init__(self, now: float = 1_764_316_800.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def home(tmp_path: Path) -> Iterator[tuple[Gateway, Outbox, Clock]]:
    """A worker with a BLE and a Wi-Fi blood-pressure monitor and a Zigbee SOS button, bridges up."""
    settings = GatewaySettings(
        gateway_id="gw-t",
        resident="R001",
        data_dir=tmp_path,
        devices=[
            DeviceConfig(name="bpm", family="ble-bpm", role="bp_monitor"),
            DeviceConfig(name="wifi-bp", family="native", role="bp_monitor", report_interval_s=300),
            DeviceConfig(name="button", family="zigbee2mqtt", role="sos_button", model="TS0215A_sos"),
        ],
        serial=[SerialPortConfig(port="/dev/ttyUSB0", family="ble-bpm", device="bpm")],
    )
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
    for bridge in gw.intake.supervisor.own_bridges:  # the broker and the serial port connected at start
        gw.process(BridgeChange(bridge, True))
    yield gw, outbox, clock
    outbox.close()


def bodies(outbox: Outbox, lane: str) -> list[dict[str, Any]]:
    """The bodies waiting in one lane of the outbox."""
    return [e.body for e in outbox.pending(1000) if e.lane == lane]


START = 1_772_409_600.0  # 2026-03-02 08:00 Asia/Shanghai


def make_gateway(
    tmp_path: Path, clock: Clock, rules: dict[str, Any] | None = None
) -> tuple[Gateway, list[dict[str, Any]]]:
    """A worker with these rules (restored from its data directory) and the local actions it publishes."""
    settings = GatewaySettings(gateway_id="gw-t", resident="R001", data_dir=tmp_path, rules=rules or {})
    actions: list[dict[str, Any]] = []
    gw = Gateway(
        settings,
        Router(settings),
        build_engine(settings.rules, settings.timezone, settings.resident),
        Outbox(connect(settings.outbox_path)),
        publish_local=lambda t, p: actions.append(json.loads(p)),
        wake_uplink=lambda: None,
        clock=clock,
        monotonic=clock,
    )
    gw.rules.restore()
    return gw, actions


def events(gw: Gateway, lane: str) -> list[dict[str, Any]]:
    """The bodies waiting in one lane of the worker's outbox."""
    return [e.body for e in gw.outbox.pending(1000) if e.lane == lane]


def push(gw: Gateway, version: object, rules: object) -> None:
    """The server's rules document, as a command."""
    gw.process(ServerCommand(protocol.Command("rules_config", {"version": version, "rules": rules})))
