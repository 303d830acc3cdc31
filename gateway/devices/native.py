"""Native JSON devices: our own versioned format on `anxin/dev/<device-name>` (docs/protocol.md)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from gateway.config import DeviceConfig
from gateway.devices import bp, vitals
from gateway.errors import ParseError
from gateway.model import AccelChunk, DeviceEvent, DeviceMessage, EventKind, Reading

BASE = "anxin/dev"
VERSION = 1
MAX_PAYLOAD = 256 * 1024
MAX_SAMPLES = 5000  # 100 s at 50 Hz; a wearable sends chunks of a second or two
G = 9.80665

_BUTTON = {
    "sos": EventKind.SOS,
    "cancel": EventKind.SOS_CANCEL,
    "checkin": EventKind.CHECKIN,
    "service": EventKind.SERVICE,
}  # a second button or a long press: a service request, never an SOS
_FALL = {"fall": EventKind.FALL, "maybe_fall": EventKind.MAYBE_FALL, "low_posture": EventKind.LOW_POSTURE}


def _decode(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD:
        raise ParseError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ParseError(f"not JSON: {exc.__class__.__name__}") from exc
    if not isinstance(doc, dict):
        raise ParseError("payload is not a JSON object")
    if doc.get("v") != VERSION or isinstance(doc.get("v"), bool):
        raise ParseError(f"unsupported native format version {doc.get('v')!r} (this gateway reads v{VERSION})")
    return doc


def _num(doc: Mapping[str, Any], key: str, required: bool = False) -> float | None:
    value = doc.get(key)
    if value is None:
        if required:
            raise ParseError(f"{key} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParseError(f"{key} is not a number: {str(value)[:40]!r}")
    return float(value)


def _choice(doc: Mapping[str, Any], key: str, table: Mapping[str, Any], extra: tuple[str, ...] = ()) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or (value not in table and value not in extra):
        raise ParseError(f"{key} must be one of {sorted((*table, *extra))}, not {str(value)[:40]!r}")
    return value


def _time(doc: Mapping[str, Any], key: str) -> datetime | None:
    value = doc.get(key)
    if value is None:
        return None
    try:
        if isinstance(value, str):
            ts = datetime.fromisoformat(value)
            if ts.tzinfo is None:
                raise ParseError(f"{key} {value!r} has no UTC offset")
            return ts
        seconds = _num(doc, key)
        return datetime.fromtimestamp(seconds or 0.0, UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise ParseError(f"{key} is not a time: {str(value)[:40]!r}") from exc


def _bool(doc: Mapping[str, Any], key: str) -> bool:
    value = doc.get(key)
    if not isinstance(value, bool):
        raise ParseError(f"{key} must be true or false, not {str(value)[:40]!r}")
    return value


def _button(name: str, doc: Mapping[str, Any]) -> list[DeviceMessage]:
    action = _choice(doc, "action", _BUTTON)
    return [DeviceEvent(name, _BUTTON[action], _time(doc, "ts"), {"action": action})]


def _fall(name: str, doc: Mapping[str, Any]) -> list[DeviceMessage]:
    state = _choice(doc, "state", _FALL, ("none",))
    if state == "none":
        return []
    detail: dict[str, Any] = {"state": state}
    if (conf := _num(doc, "confidence")) is not None:
        detail["confidence"] = conf
    return [DeviceEvent(name, _FALL[state], _time(doc, "ts"), detail)]


def _bp(name: str, doc: Mapping[str, Any]) -> list[DeviceMessage]:
    unit = doc.get("unit", "mmHg")
    if unit not in ("mmHg", "kPa"):
        raise ParseError(f"unit must be mmHg or kPa, not {str(unit)[:20]!r}")
    scale = bp.KPA_TO_MMHG if unit == "kPa" else 1.0
    flags = doc.get("flags", [])
    if not isinstance(flags, list) or not all(isinstance(f, str) and f in bp.QUALITY_FLAGS for f in flags):
        raise ParseError(f"flags must be a list drawn from {sorted(bp.QUALITY_FLAGS)}")
    mean = _num(doc, "map")
    values = bp.BpValues(
        systolic=(_num(doc, "systolic", True) or 0.0) * scale,
        diastolic=(_num(doc, "diastolic", True) or 0.0) * scale,
        map=None if mean is None else mean * scale,
        pulse=_num(doc, "pulse"),
        measured_at=_time(doc, "measured_at"),
        flags=frozenset(flags),
        detail={"source_unit": unit},
    )
    return [bp.reading(name, values)]


def _unit(doc: Mapping[str, Any], units: tuple[str, ...]) -> str:
    unit = doc.get("unit", units[0])
    if unit not in units:
        raise ParseError(f"unit must be one of {', '.join(units)}, not {str(unit)[:20]!r}")
    return str(unit)


def _glucose(name: str, doc: Mapping[str, Any]) -> list[DeviceMessage]:
    unit = _unit(doc, ("mmol/L", "mg/dL"))
    value = _num(doc, "glucose", True) or 0.0
    meal = doc.get("meal")
    if meal is not None and meal not in vitals.MEALS:
        raise ParseError(f"meal must be one of {', '.join(vitals.MEALS)}, not {str(meal)[:20]!r}")
    mmol_l = vitals.mg_dl_to_mmol_l(value) if unit == "mg/dL" else value
    return [vitals.glucose(name, mmol_l, _time(doc, "measured_at"), {meal} if meal else set(), {"source_unit": unit})]


def _spo2(name: str, doc: Mapping[str, Any]) -> list[DeviceMessage]:
    continuous = doc.get("mode", "spot_check")
    if continuous not in ("spot_check", "continuous"):
        raise ParseError(f"mode must be spot_check or continuous, not {str(continuous)[:20]!r}")
    flags = {"continuous"} if continuous == "continuous" else set()
    return [
        vitals.spo2(
            name,
            _num(doc, "spo2", True) or 0.0,
            _num(doc, "pulse"),
            _time(doc, "measured_at"),
            flags,
            {"mode": continuous},
            {"pulse_amplitude_index": _num(doc, "pai")},
        )
    ]


def _weight(name: str, doc: Mapping[str, Any]) -> list[DeviceMessage]:
    unit = _unit(doc, ("kg", "lb"))
    scale = vitals.LB_TO_KG if unit == "lb" else 1.0
    height = _num(doc, "height_m")
    return [
        vitals.weight(
            name,
            (_num(doc, "weight", True) or 0.0) * scale,
            _time(doc, "measured_at"),
            _num(doc, "bmi"),
            height,
            {"source_unit": unit},
        )
    ]


def _body_temperature(name: str, doc: Mapping[str, Any]) -> list[DeviceMessage]:
    unit = _unit(doc, ("C", "F"))
    value = _num(doc, "temperature", True) or 0.0
    celsius = vitals.fahrenheit_to_celsius(value) if unit == "F" else value
    return [vitals.temperature(name, celsius, _time(doc, "measured_at"), {"source_unit": unit})]


def _accel(name: str, doc: Mapping[str, Any]) -> list[DeviceMessage]:
    t0, rate = _num(doc, "t0", True), _num(doc, "rate_hz", True)
    if not rate or rate <= 0 or rate > 1000:
        raise ParseError(f"rate_hz {rate} outside 0-1000")
    unit = doc.get("unit", "g")
    if unit not in ("g", "m/s2"):
        raise ParseError(f"unit must be g or m/s2, not {str(unit)[:20]!r}")
    raw = doc.get("samples")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_SAMPLES:
        raise ParseError(f"samples must be a list of 1 to {MAX_SAMPLES} [x, y, z] triples")
    scale = 1.0 / G if unit == "m/s2" else 1.0
    samples = []
    for s in raw:
        if (
            not isinstance(s, list)
            or len(s) != 3
            or not all(isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c) for c in s)
        ):
            raise ParseError(f"sample {str(s)[:40]} is not [x, y, z]")
        samples.append((s[0] * scale, s[1] * scale, s[2] * scale))
    return [AccelChunk(name, t0 or 0.0, rate, tuple(samples))]


def _status(name: str, doc: Mapping[str, Any]) -> list[DeviceMessage]:
    """battery / rssi on any message; battery_low true -> BATTERY_LOW."""
    values = {k: v for k in ("battery", "rssi") if (v := _num(doc, k)) is not None}
    if "battery_low" in doc:
        values["battery_low"] = float(_bool(doc, "battery_low"))
    out: list[DeviceMessage] = [Reading(name, "device_status", values)] if values else []
    if values.get("battery_low"):
        out.insert(0, DeviceEvent(name, EventKind.BATTERY_LOW))
    return out


Parser = Callable[[str, Mapping[str, Any]], list[DeviceMessage]]


def _simple(kind_true: EventKind, kind_false: EventKind, key: str) -> Parser:
    def parse(name: str, doc: Mapping[str, Any]) -> list[DeviceMessage]:
        return [DeviceEvent(name, kind_true if _bool(doc, key) else kind_false, _time(doc, "ts"))]

    return parse


def _climate(name: str, doc: Mapping[str, Any]) -> list[DeviceMessage]:
    values = {k: v for k in ("temperature", "humidity") if (v := _num(doc, k)) is not None}
    if not values:
        raise ParseError("climate needs temperature and/or humidity")
    return [Reading(name, "climate", values, _time(doc, "ts"))]


def _heartbeat(name: str, doc: Mapping[str, Any]) -> list[DeviceMessage]:
    detail = {"uptime_s": up} if (up := _num(doc, "uptime_s")) is not None else {}
    return [DeviceEvent(name, EventKind.HEARTBEAT, _time(doc, "ts"), detail)]


TYPES: dict[str, Parser] = {
    "button": _button,
    "fall": _fall,
    "bp": _bp,
    "glucose": _glucose,
    "spo2": _spo2,
    "weight": _weight,
    "body_temperature": _body_temperature,
    "motion": _simple(EventKind.MOTION, EventKind.NO_MOTION, "motion"),
    "door": _simple(EventKind.DOOR_OPEN, EventKind.DOOR_CLOSED, "open"),
    "climate": _climate,
    "heartbeat": _heartbeat,
    "accel": _accel,
}


def parse(topic: str, payload: bytes, device: DeviceConfig | None) -> list[DeviceMessage]:
    """Any native device message; an unknown device name yields UNKNOWN_DEVICE for the installer."""
    name = topic[len(BASE) + 1 :] if topic.startswith(BASE + "/") else ""
    if not name or "/" in name:
        raise ParseError(f"not a native device topic: {topic[:80]!r}")
    if device is None:
        return [DeviceEvent(name, EventKind.UNKNOWN_DEVICE, detail={"family": "native", "topic": topic})]
    doc = _decode(payload)
    kind = doc.get("type")
    if not isinstance(kind, str) or kind not in TYPES:
        raise ParseError(f"type must be one of {sorted(TYPES)}, not {str(kind)[:40]!r}")
    return TYPES[kind](name, doc) + _status(name, doc)
