"""Readings written the way a doctor would: local date and time, pressures, flags."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from server.trends.series import BPSeries, day_number, from_rows, zone

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

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


NOW = at(13, "23:00")


def seed_cohort(sessions: sessionmaker[Session]) -> None:
    """Four residents whose risk order is known (HIGH, RISE, GONE, OK), and accounts doctor/staff/admin ("pw")."""
    from server.db.models import Reading, Resident

    def pairs(days: range, s: float, d: float) -> list[tuple]:
        return [(day, hhmm, s, d) for day in days for hhmm in ("07:00", "07:02", "21:00", "21:02")]

    people = {
        "OK": pairs(range(14), 120, 78),
        "GONE": pairs(range(4), 120, 78),
        "RISE": pairs(range(7), 125, 80) + pairs(range(7, 14), 137, 84),
        "HIGH": pairs(range(14), 145, 92),
    }
    from server.auth import hash_password
    from server.db.models import Staff

    with sessions() as s, s.begin():
        pw = hash_password("pw")
        s.add_all(
            [
                Staff(username=role, display_name=f"Dr {role}", role=role, password_hash=pw)
                for role in ("doctor", "staff", "admin")
            ]
        )
        for code, rows in people.items():
            r = Resident(
                code=code,
                name=f"{code} 患者",
                bp_target={"systolic": 135, "diastolic": 85},
                consent=True,
                consent_sharing=True,
            )
            s.add(r)
            s.flush()
            for i, (day, hhmm, sys_, dia) in enumerate(rows):
                flags = ["irregular_pulse"] if i == 0 else []
                s.add(
                    Reading(
                        resident_id=r.id,
                        gateway_id=f"gw-{code.lower()}",
                        device="bp",
                        metric="blood_pressure",
                        ts=at(day, hhmm).astimezone(UTC),
                        values={"systolic": sys_, "diastolic": dia, "pulse": 71},
                        flags=flags,
                    )
                )


# Glucose over two days (seconds from the first reading), whose figures tests/unit/trends/test_chronic.py works
# out by hand. Time order: context, value; in range? (fasting 4.4-7.0, otherwise 3.9 to < 10.0)
H = 3600.0
GLUCOSE = [
    (0 * H, 5.0, "fasting"),  # yes
    (3 * H, 9.0, "after_meal"),  # yes
    (15 * H, 3.5, "bedtime"),  # no: low, event 1 (level 1)
    (24 * H, 7.5, "fasting"),  # no: above 7.0; ends event 1
    (28 * H, 2.8, "before_meal"),  # no: event 2, level 2
    (28.3 * H, 3.2, "before_meal"),  # no: same event
    (31 * H, 11.0, "after_meal"),  # no: not below 10.0; ends event 2
    (48 * H, 6.0, "fasting"),
]  # yes
