"""Pulse oximeters: PLX Spot-Check Measurement (0x2A5E) and PLX Continuous Measurement (0x2A5F), every
field and flag per the Bluetooth SIG GATT Specification Supplement and the Pulse Oximeter Service 1.0."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from gateway.devices import vitals
from gateway.devices.ble_bpm import SFloat
from gateway.devices.gatt import Cursor, expect_length, names, number, optional
from gateway.errors import ImplausibleReading
from gateway.model import Reading

SPOT_CHECK, CONTINUOUS = 0x2A5E, 0x2A5F

# Spot-check flags
SPOT_TIME, SPOT_STATUS, SPOT_DEVICE_STATUS, SPOT_PAI, SPOT_CLOCK_NOT_SET = 0x01, 0x02, 0x04, 0x08, 0x10
# Continuous flags
FAST, SLOW, CONT_STATUS, CONT_DEVICE_STATUS, CONT_PAI = 0x01, 0x02, 0x04, 0x08, 0x10

# Measurement Status (bits 0-4 reserved)
MEASUREMENT_STATUS = {
    5: "measurement_ongoing",
    6: "early_estimate",
    7: "validated",
    8: "fully_qualified",
    9: "from_storage",
    10: "demonstration_data",
    11: "testing_data",
    12: "calibration_ongoing",
    13: "measurement_unavailable",
    14: "questionable_measurement",
    15: "invalid_measurement",
}
# Device and Sensor Status (24 bits, 16-23 reserved)
DEVICE_STATUS = {
    0: "extended_display_update",
    1: "equipment_malfunction",
    2: "signal_processing_irregularity",
    3: "inadequate_signal",
    4: "poor_signal",
    5: "low_perfusion",
    6: "erratic_signal",
    7: "nonpulsatile_signal",
    8: "questionable_pulse",
    9: "signal_analysis_ongoing",
    10: "sensor_interference",
    11: "sensor_unconnected",
    12: "unknown_sensor",
    13: "sensor_displaced",
    14: "sensor_malfunction",
    15: "sensor_disconnected",
}
# Bits that mean the numbers are not the resident's saturation now (others travel as quality flags).
INVALID = frozenset(
    {
        "demonstration_data",
        "testing_data",
        "measurement_unavailable",
        "invalid_measurement",
        "equipment_malfunction",
        "sensor_unconnected",
        "sensor_malfunction",
        "sensor_disconnected",
        "calibration_ongoing",
    }
)


def _judge(status: list[str], what: str) -> set[str]:
    if bad := sorted(INVALID.intersection(status)):
        raise ImplausibleReading(f"{what}: the oximeter reports {', '.join(bad)}")
    return set(status)


def _pair(cur: Cursor) -> tuple[SFloat, SFloat]:
    return cur.sfloat(), cur.sfloat()


def spot_check(device: str, value: bytes, tz: tzinfo) -> Reading:
    """The checked SpO2 / pulse reading in one 0x2A5E value; raises ParseError."""
    flags = value[0] if value else 0
    expect_length(value, flags, {SPOT_TIME: 7, SPOT_STATUS: 2, SPOT_DEVICE_STATUS: 3, SPOT_PAI: 2}, 5, "PLX spot-check")
    cur = Cursor(value, 1)
    spo2, pr = _pair(cur)
    ts = cur.date_time(tz) if flags & SPOT_TIME else None
    status = names(cur.uint(2), MEASUREMENT_STATUS) if flags & SPOT_STATUS else []
    status += names(cur.uint(3), DEVICE_STATUS) if flags & SPOT_DEVICE_STATUS else []
    pai = optional(cur.sfloat()) if flags & SPOT_PAI else None
    quality = _judge(status, "PLX spot-check")
    detail: dict[str, Any] = {"mode": "spot_check"}
    if flags & SPOT_CLOCK_NOT_SET or (flags & SPOT_TIME and ts is None):
        ts, detail["time"] = None, "unknown"  # a clock that was never set says nothing about when
    return vitals.spo2(device, number("SpO2", spo2), optional(pr), ts, quality, detail, {"pulse_amplitude_index": pai})


def continuous(device: str, value: bytes) -> Reading:
    """The checked SpO2 / pulse reading in one 0x2A5F value (normal, fast and slow averaging); raises ParseError."""
    flags = value[0] if value else 0
    expect_length(
        value, flags, {FAST: 4, SLOW: 4, CONT_STATUS: 2, CONT_DEVICE_STATUS: 3, CONT_PAI: 2}, 5, "PLX continuous"
    )
    cur = Cursor(value, 1)
    spo2, pr = _pair(cur)
    fast = _pair(cur) if flags & FAST else None
    slow = _pair(cur) if flags & SLOW else None
    status = names(cur.uint(2), MEASUREMENT_STATUS) if flags & CONT_STATUS else []
    status += names(cur.uint(3), DEVICE_STATUS) if flags & CONT_DEVICE_STATUS else []
    pai = optional(cur.sfloat()) if flags & CONT_PAI else None
    quality = _judge(status, "PLX continuous") | {"continuous"}
    extra = {
        "pulse_amplitude_index": pai,
        "spo2_fast": optional(fast[0]) if fast else None,
        "pulse_fast": optional(fast[1]) if fast else None,
        "spo2_slow": optional(slow[0]) if slow else None,
        "pulse_slow": optional(slow[1]) if slow else None,
    }
    return vitals.spo2(device, number("SpO2", spo2), optional(pr), None, quality, {"mode": "continuous"}, extra)
