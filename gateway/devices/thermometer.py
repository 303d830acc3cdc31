"""Clinical thermometers: Temperature Measurement (0x2A1C), every field and flag per the Bluetooth SIG
GATT Specification Supplement and the Health Thermometer Service 1.0."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from gateway.devices import vitals
from gateway.devices.gatt import Cursor, expect_length, number
from gateway.model import Reading

MEASUREMENT = 0x2A1C

FAHRENHEIT, TIME, TYPE = 0x01, 0x02, 0x04
SITES = {
    1: "armpit",
    2: "body",
    3: "ear",
    4: "finger",
    5: "gastrointestinal_tract",
    6: "mouth",
    7: "rectum",
    8: "toe",
    9: "tympanum",
}


def measurement(device: str, value: bytes, tz: tzinfo) -> Reading:
    """The checked body temperature in one 0x2A1C value (°C whatever the thermometer sent); raises ParseError."""
    flags = value[0] if value else 0
    expect_length(value, flags, {TIME: 7, TYPE: 1}, 5, "temperature measurement")
    cur = Cursor(value, 1)
    raw = cur.float32()
    ts = cur.date_time(tz) if flags & TIME else None
    detail: dict[str, Any] = {"source_unit": "°F" if flags & FAHRENHEIT else "°C"}
    if flags & TIME and ts is None:
        detail["time"] = "unknown"
    if flags & TYPE:
        detail["site"] = SITES.get(cur.uint(1), "reserved")
    degrees = number("temperature", raw)
    celsius = vitals.fahrenheit_to_celsius(degrees) if flags & FAHRENHEIT else degrees
    return vitals.temperature(device, celsius, ts, detail)
