"""CSV export of one resident's blood-pressure readings, one row per reading."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from server.db.models import Reading, Resident, as_utc
from server.home_text import csv_cell
from server.trends.series import EVENING_HOURS, MORNING_HOURS

COLUMNS = (
    "resident",
    "time_utc",
    "time_local",
    "session",
    "systolic_mmhg",
    "diastolic_mmhg",
    "pulse_per_min",
    "flags",
    "device",
    "gateway",
)


def session_name(local: datetime) -> str:
    """morning, evening or other, by the same hours as the analytics."""
    hour = local.hour + local.minute / 60
    if MORNING_HOURS[0] <= hour < MORNING_HOURS[1]:
        return "morning"
    if EVENING_HOURS[0] <= hour < EVENING_HOURS[1]:
        return "evening"
    return "other"


def to_csv(resident: Resident, readings: Iterable[Reading], tz: ZoneInfo) -> str:
    """The readings as CSV text with a header row; times in ISO 8601, pressures as recorded."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    for r in readings:
        ts = as_utc(r.ts)
        local = ts.astimezone(tz)
        pulse = r.values.get("pulse")
        w.writerow(
            [
                resident.code,
                ts.astimezone(UTC).isoformat(),
                local.isoformat(),
                session_name(local),
                r.values["systolic"],
                r.values["diastolic"],
                "" if pulse is None else pulse,
                *map(csv_cell, (";".join(sorted(map(str, r.flags or []))), r.device, r.gateway_id)),
            ]
        )
    return buf.getvalue()


VITALS_COLUMNS = (
    "resident",
    "time_utc",
    "time_local",
    "metric",
    "value",
    "unit",
    "pulse_per_min",
    "bmi",
    "context",
    "flags",
    "device",
    "gateway",
)
VITALS_UNITS = {
    "glucose": ("glucose_mmol_l", "mmol/L"),
    "spo2": ("spo2", "%"),
    "weight": ("weight_kg", "kg"),
    "body_temperature": ("temperature_c", "°C"),
}
MEAL_FLAGS = ("fasting", "before_meal", "after_meal", "bedtime", "casual")


def vitals_csv(resident: Resident, readings: Iterable[Reading], tz: ZoneInfo) -> str:
    """Glucose, SpO2, weight and body-temperature readings as CSV, one row per reading, SI/clinical units."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(VITALS_COLUMNS)
    for r in readings:
        ts = as_utc(r.ts)
        key, unit = VITALS_UNITS[r.metric]
        flags = sorted(map(str, r.flags or []))
        w.writerow(
            [
                resident.code,
                ts.astimezone(UTC).isoformat(),
                ts.astimezone(tz).isoformat(),
                r.metric,
                r.values[key],
                unit,
                r.values.get("pulse", ""),
                r.values.get("bmi", ""),
                next((f for f in flags if f in MEAL_FLAGS), ""),
                *map(csv_cell, (";".join(flags), r.device, r.gateway_id)),
            ]
        )
    return buf.getvalue()
