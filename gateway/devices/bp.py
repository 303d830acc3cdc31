"""Blood pressure, whatever carried it: plausibility, the typed reading, and resend suppression."""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.errors import ImplausibleReading
from gateway.model import Reading

KPA_TO_MMHG = 760.0 / 101.325  # 1 kPa = 7.50062 mmHg
METRIC = "blood_pressure"
# Measurements a device keeps in memory and may send again after reconnecting.
STORED_METRICS = frozenset({METRIC, "glucose", "spo2", "weight", "body_temperature"})

# Physiological limits; outside them a reading is a measurement error, not a patient state.
SYSTOLIC = (50.0, 300.0)
DIASTOLIC = (30.0, 200.0)
PULSE = (25.0, 250.0)

# Quality flags a monitor can report; they travel with the reading to the doctor.
QUALITY_FLAGS = frozenset(
    {
        "body_movement",
        "cuff_too_loose",
        "irregular_pulse",
        "pulse_rate_high",
        "pulse_rate_low",
        "improper_position",
    }
)


@dataclass(frozen=True, slots=True)
class BpValues:
    """One blood-pressure measurement in mmHg and beats per minute, before checks."""

    systolic: float
    diastolic: float
    map: float | None = None
    pulse: float | None = None
    measured_at: datetime | None = None
    flags: frozenset[str] = frozenset()
    detail: Mapping[str, Any] = field(default_factory=dict)


def _in(value: float, bounds: tuple[float, float]) -> bool:
    return math.isfinite(value) and bounds[0] <= value <= bounds[1]


def check(values: BpValues) -> None:
    """Raise ImplausibleReading with the reason when the values cannot be a real measurement."""
    if not _in(values.systolic, SYSTOLIC):
        raise ImplausibleReading(f"systolic {values.systolic} mmHg outside {SYSTOLIC[0]:g}-{SYSTOLIC[1]:g}")
    if not _in(values.diastolic, DIASTOLIC):
        raise ImplausibleReading(f"diastolic {values.diastolic} mmHg outside {DIASTOLIC[0]:g}-{DIASTOLIC[1]:g}")
    if values.systolic <= values.diastolic:
        raise ImplausibleReading(f"systolic {values.systolic} not above diastolic {values.diastolic}")
    if values.pulse is not None and not _in(values.pulse, PULSE):
        raise ImplausibleReading(f"pulse {values.pulse}/min outside {PULSE[0]:g}-{PULSE[1]:g}")
    if values.map is not None and not (values.diastolic <= values.map <= values.systolic):
        raise ImplausibleReading(f"mean arterial pressure {values.map} not between diastolic and systolic")


def reading(device: str, values: BpValues) -> Reading:
    """A checked blood-pressure Reading (mmHg, rounded to 0.1); raises ImplausibleReading."""
    check(values)
    out = {"systolic": round(values.systolic, 1), "diastolic": round(values.diastolic, 1)}
    if values.map is not None:
        out["map"] = round(values.map, 1)
    if values.pulse is not None:
        out["pulse"] = round(values.pulse, 1)
    return Reading(device, METRIC, out, values.measured_at, values.flags, dict(values.detail))


class RecentMeasurements:
    """Remembers recently forwarded measurements so a monitor's resend after reconnecting is dropped.

    A measurement is identified by device, time of measurement and values; one without a time cannot
    be told apart from a genuine second measurement with the same numbers, so it is never dropped.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self.capacity = capacity
        self.dirty = False  # something new to persist since the last dump()
        self._seen: OrderedDict[tuple[Any, ...], None] = OrderedDict()

    def is_repeat(self, msg: object) -> bool:
        """True when this stored measurement (blood pressure, glucose, SpO2 spot-check, weight, temperature)
        was already forwarded; records it otherwise."""
        if not isinstance(msg, Reading) or msg.metric not in STORED_METRICS or msg.ts is None:
            return False
        key = (msg.device, msg.ts.isoformat(), tuple(sorted(msg.values.items())))
        if key in self._seen:
            self._seen.move_to_end(key)
            return True
        self._seen[key] = None
        self.dirty = True
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return False

    def dump(self) -> str:
        """The memory as JSON, so that it survives a gateway restart."""
        self.dirty = False
        return json.dumps([[dev, ts, [list(kv) for kv in values]] for dev, ts, values in self._seen])

    def load(self, text: str | None) -> None:
        """Restore a dump(); anything unreadable is ignored (the worst case is one resent reading)."""
        try:
            rows = json.loads(text) if text else []
            keys = [(str(d), str(t), tuple((str(k), float(v)) for k, v in vals)) for d, t, vals in rows]
        except (ValueError, TypeError):
            return
        for key in keys[-self.capacity :]:
            self._seen[key] = None
