"""Body-composition scales: Weight Measurement (0x2A9D), every field and flag per the Bluetooth SIG GATT
Specification Supplement and the Weight Scale Service 1.0."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from gateway.devices import vitals
from gateway.devices.gatt import Cursor, expect_length
from gateway.errors import ImplausibleReading
from gateway.model import Reading

MEASUREMENT = 0x2A9D

IMPERIAL, TIME, USER, BMI_HEIGHT = 0x01, 0x02, 0x04, 0x08
UNSUCCESSFUL = 0xFFFF  # "Measurement Unsuccessful"
UNKNOWN_USER = 0xFF
# Resolution of the integer fields: SI (kg, m) and imperial (lb, inch).
WEIGHT_STEP = {False: 0.005, True: 0.01}
HEIGHT_STEP = {False: 0.001, True: 0.1}
BMI_STEP = 0.1


def measurement(device: str, value: bytes, tz: tzinfo) -> Reading:
    """The checked weight reading in one 0x2A9D value (kg and m whatever the scale sent); raises ParseError."""
    flags = value[0] if value else 0
    expect_length(value, flags, {TIME: 7, USER: 1, BMI_HEIGHT: 4}, 3, "weight measurement")
    cur = Cursor(value, 1)
    imperial = bool(flags & IMPERIAL)
    raw = cur.uint(2)
    ts = cur.date_time(tz) if flags & TIME else None
    detail: dict[str, Any] = {"source_unit": "lb" if imperial else "kg"}
    if flags & TIME and ts is None:
        detail["time"] = "unknown"
    if flags & USER:
        user = cur.uint(1)
        detail["user_id"] = None if user == UNKNOWN_USER else user
    bmi = height = None
    if flags & BMI_HEIGHT:
        bmi = cur.uint(2) * BMI_STEP
        height = cur.uint(2) * HEIGHT_STEP[imperial] * (vitals.INCH_TO_M if imperial else 1.0)
    if raw == UNSUCCESSFUL:
        raise ImplausibleReading("the scale reports the measurement unsuccessful")
    kg = raw * WEIGHT_STEP[imperial] * (vitals.LB_TO_KG if imperial else 1.0)
    return vitals.weight(device, kg, ts, bmi, height, detail)
