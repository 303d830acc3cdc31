"""A known zigbee2mqtt device sending keys nothing reads: what has a meaning is forwarded, the rest is
counted per device and reported to the server when a key is new and then at most hourly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.config import DeviceConfig, GatewaySettings
from gateway.devices.router import Router
from gateway.items import LocalMessage
from gateway.outbox import Outbox
from gateway.outbox_db import connect
from gateway.rules.defaults import build_engine
from gateway.service import Gateway
from tests.unit.gateway.worker import Clock


@pytest.fixture
def home(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = GatewaySettings(
        gateway_id="gw-k",
        resident="R001",
        data_dir=tmp_path,
        devices=[
            DeviceConfig(name="zigbee-bp", family="zigbee2mqtt", role="bp_monitor"),
            DeviceConfig(name="climate", family="zigbee2mqtt", role="climate", model="WSDCGQ11LM"),
        ],
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
    yield gw, outbox, clock
    outbox.close()


def lane(outbox: Outbox, name: str) -> list[dict]:
    return [e.body for e in outbox.pending(1000) if e.lane == name]


def send(gw: Gateway, device: str, doc: dict) -> None:
    gw.process(LocalMessage(f"zigbee2mqtt/{device}", json.dumps(doc).encode()))


def test_blood_pressure_and_pressure_are_forwarded(home) -> None:  # type: ignore[no-untyped-def]
    gw, outbox, clock = home
    send(gw, "zigbee-bp", {"systolic": 186, "diastolic": 112, "pulse": 88})
    clock.now += 120
    send(gw, "zigbee-bp", {"systolic": 188, "diastolic": 114, "pulse": 86})  # the confirming repeat
    send(gw, "climate", {"temperature": 21.0, "humidity": 40, "pressure": 1008.2})
    readings = {r["metric"]: r["values"] for r in lane(outbox, "reading")}
    assert readings["blood_pressure"] == {"systolic": 188.0, "diastolic": 114.0, "pulse": 86.0}
    assert readings["climate"]["pressure_hpa"] == 1008.2
    assert "bp_high" in [a["type"] for a in lane(outbox, "alarm")], "the rules judge a Zigbee bridge's readings too"


def test_unknown_keys_are_counted_and_reported_when_new_then_hourly(home) -> None:  # type: ignore[no-untyped-def]
    gw, outbox, clock = home
    for _ in range(50):
        send(gw, "climate", {"temperature": 21.0, "comfort_index": 7})
    send(gw, "climate", {"temperature": 21.0, "comfort_index": 7, "dew_point": 9.5})  # a new key: at once
    reports = [e for e in lane(outbox, "event") if e["kind"] == "unknown_keys"]
    assert [r["detail"] for r in reports] == [
        {"keys": {"comfort_index": 1}, "messages": 1},
        {"keys": {"comfort_index": 51, "dew_point": 1}, "messages": 51},
    ]
    assert gw.counters["unknown_keys"] == 51
    clock.now += 3601
    send(gw, "climate", {"comfort_index": 7})
    last = [e for e in lane(outbox, "event") if e["kind"] == "unknown_keys"][-1]
    assert last["device"] == "climate" and last["detail"]["messages"] == 52
    assert len([e for e in lane(outbox, "event") if e["kind"] == "unknown_keys"]) == 3
    assert len(lane(outbox, "reading")) == 51, "what was understood in the same messages still went out"
