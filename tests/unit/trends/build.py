"""Readings written the way a doctor would: local date and time, pressures, flags."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from server.trends.series import BPSeries, day_number, from_rows, zone

TZ = zone("Asia/Shanghai")
START = date(2026, 3, 2)  # a Monday; day index 0 in these tests


def at(day: int, hhmm: str, tz_name: str = "Asia/Shanghai") -> datetime:
    """Local day index and clock time as an aware datetime."""
    h, m = map(int, hhmm.split(":"))
    return datetime.combine(START + timedelta(days=day), time(h, m), tzinfo=zone(tz_name))


def series(rows: list[tuple], tz_name: str = "Asia/Shanghai") -> BPSeries:
    """rows: (day index, "HH:MM", systolic, diastolic[, pulse[, flags]])."""
    full = []
    for r in rows:
        day, hhmm, s, d = r[:4]
        pulse = r[4] if len(r) > 4 else 70.0
        flags = r[5] if len(r) > 5 else []
        full.append((at(day, hhmm, tz_name), s, d, pulse, flags))
    return from_rows(full, zone(tz_name))


def dn(day: int) -> int:
    """Local day index → day number."""
    return day_number(START + timedelta(days=day))
