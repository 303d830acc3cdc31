"""Recorded payloads and frames of every family, decoded through the gateway's own parsers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.config import GatewaySettings, load_settings
from gateway.decode import Decoder, message_json
from gateway.errors import ParseError

FIXTURES = Path(__file__).parents[2] / "fixtures"


def _matches(expected: dict[str, Any], got: dict[str, Any]) -> bool:
    """Every key the fixture states has exactly that value (mappings compared key by key)."""
    for key, want in expected.items():
        have = got.get(key)
        if isinstance(want, dict) and isinstance(have, dict):
            if any(have.get(k) != v for k, v in want.items()):
                return False
        elif have != want:
            return False
    return True


def _check(decoder: Decoder, line: str, case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(ParseError) as info:
            decoder.decode(line)
        assert case["error"] in str(info.value)
        return
    got = [message_json(m) for m in decoder.decode(line)]
    assert len(got) == len(case["expect"]), got
    for want, have in zip(case["expect"], got, strict=False):
        assert _matches(want, have), f"expected {want}\n     got {have}"


def _mqtt_cases(family: str) -> list[Any]:
    out = []
    for path in sorted((FIXTURES / family).glob("*.json")):
        doc = json.loads(path.read_text())
        for i, case in enumerate(doc["messages"]):
            out.append(pytest.param(doc["device"], case, id=f"{path.stem}-{i}"))
    return out


@pytest.mark.parametrize(("device", "case"), _mqtt_cases("zigbee2mqtt") + _mqtt_cases("native"))
def test_recorded_mqtt_payloads(device: dict[str, Any], case: dict[str, Any]) -> None:
    settings = GatewaySettings(gateway_id="fixture", devices=[device])
    decoder = Decoder(device["family"], settings)
    payload = case["payload"] if isinstance(case["payload"], str) else json.dumps(case["payload"])
    _check(decoder, f"{case['topic']} {payload}", case)


BPM = json.loads((FIXTURES / "ble-bpm" / "measurements.json").read_text())


@pytest.mark.parametrize("case", BPM["values"], ids=[c["name"] for c in BPM["values"]])
def test_recorded_blood_pressure_values(case: dict[str, Any]) -> None:
    _check(Decoder("ble-bpm", timezone_name=BPM["timezone"]), case["hex"], case)


GATT = [
    pytest.param(fmt, doc["timezone"], case, id=f"{fmt}-{case['name']}")
    for fmt in (
        "ble-glucose",
        "ble-glucose-context",
        "ble-plx-spot",
        "ble-plx-continuous",
        "ble-weight",
        "ble-temperature",
    )
    for doc in [json.loads((FIXTURES / fmt / "values.json").read_text())]
    for case in doc["values"]
]


@pytest.mark.parametrize(("fmt", "tz", "case"), GATT)
def test_recorded_health_device_values(fmt: str, tz: str, case: dict[str, Any]) -> None:
    _check(Decoder(fmt, timezone_name=tz), case["hex"], case)


def test_recorded_rflink_session() -> None:
    decoder = Decoder("rflink", load_settings(FIXTURES / "rflink" / "devices.yaml"))
    out: list[Any] = []
    for line in (FIXTURES / "rflink" / "session.txt").read_text().splitlines():
        if line.startswith("#"):
            continue
        try:
            out.append([message_json(m) for m in decoder.decode(line)])
        except ParseError as exc:
            out.append(str(exc))
    # The decoder sees every line; repeat suppression is the stream's job (tested with time below).
    assert out[0] == [] and out[1] == []  # banner and OK are the dongle talking about itself
    assert [m["kind"] for m in out[2]] == ["sos"] and out[2][0]["device"] == "pendant"
    assert [m["kind"] for m in out[5]] == ["door_open"]
    assert [m["kind"] for m in out[6]] == ["door_closed", "battery_low"]
    assert out[7][0]["kind"] == "unknown_device" and out[7][0]["detail"]["id"] == "4C01"
    assert out[8][0]["device"] == "rflink:Alecto V1:0334:"
    assert out[9] == []  # debug pulses carry no sender id
    assert "not an RFLink packet line" in out[10] and "not an RFLink packet line" in out[11]
