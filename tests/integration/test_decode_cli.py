"""`anxin-gateway decode` as an installer runs it: a file or stdin in, one JSON object a line out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from firmware_sim.serial_devices import BpMeasurement

pytestmark = pytest.mark.integration
FIXTURES = Path(__file__).parents[1] / "fixtures"


def decode(*args: str, stdin: str | None = None) -> tuple[int, list[dict]]:
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "decode", *args], input=stdin, capture_output=True, text=True, timeout=60
    )
    assert proc.stderr == "", proc.stderr
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()]


def test_zigbee2mqtt_from_stdin_with_a_rejected_line() -> None:
    lines = (
        'zigbee2mqtt/bedroom-radar {"fall_down_status": "fall", "linkquality": 90}\n'
        'zigbee2mqtt/bedroom-radar {"fall_down_status": \n'
        "zigbee2mqtt/hall-button/availability offline\n"
    )
    rc, out = decode("--format", "zigbee2mqtt", stdin=lines)
    assert rc == 1, "a rejected line makes the exit status 1"
    assert out[0] == {
        "type": "event",
        "device": "bedroom-radar",
        "kind": "fall",
        "ts": None,
        "detail": {"fall_down_status": "fall"},
    }
    assert out[1]["metric"] == "device_status" and out[1]["values"] == {"linkquality": 90.0}
    assert out[2] == {"error": "not JSON: JSONDecodeError"}
    assert out[3]["kind"] == "device_offline"


def test_ble_bpm_hex_values_from_a_file(tmp_path: Path) -> None:
    from datetime import datetime

    value = BpMeasurement(135, 85, None, 80, datetime(2026, 11, 28, 19, 5), kpa=True).encode()
    f = tmp_path / "values.txt"
    f.write_text(value.hex() + "\n\n" + "00ff075000ff07\n")
    rc, out = decode("--format", "ble-bpm", "--timezone", "Asia/Shanghai", str(f))
    assert rc == 1 and len(out) == 2
    assert out[0]["values"]["systolic"] == pytest.approx(135, abs=0.5)  # kPa with one decimal, back in mmHg
    assert out[0]["measured_at"] == "2026-11-28T19:05:00+08:00" and out[0]["detail"]["source_unit"] == "kPa"
    assert out[1] == {"error": "systolic is NaN"}


def test_rflink_with_the_home_configuration() -> None:
    rc, out = decode(
        "--format",
        "rflink",
        "--config",
        str(FIXTURES / "rflink" / "devices.yaml"),
        str(FIXTURES / "rflink" / "session.txt"),
    )
    assert rc == 1  # the recorded session ends with two malformed lines
    sos = [o for o in out if o.get("kind") == "sos"]
    assert len(sos) == 3 and {o["device"] for o in sos} == {"pendant"}, "decode shows every line, repeats too"
    assert any(o.get("kind") == "unknown_device" and o["detail"]["id"] == "4C01" for o in out)


def test_native_accel_in_si_units_and_a_missing_file() -> None:
    line = (
        'anxin/dev/watch {"v": 1, "type": "accel", "t0": 0, "rate_hz": 50, "unit": "m/s2", '
        '"samples": [[9.80665, 0, 0]]}'
    )
    rc, out = decode("--format", "native", stdin=line)
    assert rc == 0 and out[0]["type"] == "accel" and out[0]["samples"] == [[1.0, 0.0, 0.0]]
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "decode", "--format", "native", "/nonexistent"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "cannot read /nonexistent" in proc.stderr


@pytest.mark.parametrize(
    "fmt", ["ble-glucose", "ble-glucose-context", "ble-plx-spot", "ble-plx-continuous", "ble-weight", "ble-temperature"]
)
def test_every_health_device_format_decodes_its_recorded_values(fmt: str) -> None:
    """Each recorded value through the command: one answer a line, `error` objects for the refused ones."""
    doc = json.loads((FIXTURES / fmt / "values.json").read_text())
    rc, out = decode("--format", fmt, "--timezone", doc["timezone"], stdin="\n".join(c["hex"] for c in doc["values"]))
    assert len(out) == len(doc["values"])
    assert rc == (1 if any("error" in c for c in doc["values"]) else 0)
    for case, got in zip(doc["values"], out, strict=False):
        if "error" in case:
            assert case["error"] in got["error"]
        else:
            assert got["type"] == "reading" and got["values"] and "error" not in got
    quantities = {
        "ble-glucose": "glucose_mmol_l",
        "ble-plx-spot": "spo2",
        "ble-plx-continuous": "pulse",
        "ble-weight": "weight_kg",
        "ble-temperature": "temperature_c",
        "ble-glucose-context": "sequence",
    }
    assert quantities[fmt] in out[0]["values"]


def test_decode_says_what_it_ignored_and_forwards_what_has_a_meaning() -> None:
    lines = (
        'zigbee2mqtt/zigbee-bp {"systolic": 142, "diastolic": 91, "heart_rate": 70}\n'
        'zigbee2mqtt/living-climate {"temperature": 21.5, "pressure": 1012.5, "comfort_index": 7}\n'
    )
    rc, out = decode("--format", "zigbee2mqtt", "--role", "climate", stdin=lines)
    assert rc == 0
    assert out[0]["metric"] == "blood_pressure" and out[0]["values"] == {
        "systolic": 142.0,
        "diastolic": 91.0,
        "pulse": 70.0,
    }
    assert out[1]["metric"] == "climate" and out[1]["values"] == {"temperature": 21.5, "pressure_hpa": 1012.5}
    assert out[2]["type"] == "ignored" and out[2]["device"] == "living-climate" and out[2]["keys"] == ["comfort_index"]
    assert len(out) == 3
