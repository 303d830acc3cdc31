"""A plausible home blood-pressure history (morning and evening pairs) for demos, tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from server.db.models import Reading

Row = tuple[datetime, float, float, float, list[str]]


@dataclass(frozen=True)
class Profile:
    """How a simulated resident's pressure behaves."""

    systolic: float = 132.0
    diastolic: float = 82.0
    drift_per_week: float = 0.0  # mmHg of systolic per week
    morning_surge: float = 6.0  # morning systolic above evening
    noise: float = 6.0  # SD of single readings
    skip_share: float = 0.1  # share of sessions not measured
    flag_share: float = 0.03  # share of readings with a monitor flag


def history(first_day: date, days: int, profile: Profile, tz: ZoneInfo, seed: int = 0) -> list[Row]:
    """Two readings each morning (~07:00) and evening (~21:00), two minutes apart, deterministic per seed."""
    rng = np.random.default_rng(seed)
    rows: list[Row] = []
    flags = ("irregular_pulse", "body_movement", "cuff_loose", "improper_position")
    for d in range(days):
        day = first_day + timedelta(days=d)
        base = profile.systolic + profile.drift_per_week * d / 7
        for hour, surge in ((7, profile.morning_surge / 2), (21, -profile.morning_surge / 2)):
            if rng.random() < profile.skip_share:
                continue
            start = datetime.combine(day, time(hour, int(rng.integers(0, 50))), tzinfo=tz)
            for k in range(2):
                s = base + surge + rng.normal(0, profile.noise)
                dia = profile.diastolic + (s - profile.systolic) * 0.45 + rng.normal(0, profile.noise / 2)
                fl = [flags[int(rng.integers(0, 4))]] if rng.random() < profile.flag_share else []
                rows.append((start + timedelta(minutes=2 * k), round(s), round(dia), round(68 + rng.normal(0, 6)), fl))
    return rows


def store(session: Session, resident_id: int, gateway_id: str, rows: list[Row]) -> int:
    """Insert rows as blood-pressure readings of a resident; the caller commits."""
    session.add_all(
        [
            Reading(
                resident_id=resident_id,
                gateway_id=gateway_id,
                device="bp-monitor",
                metric="blood_pressure",
                ts=ts.astimezone(UTC),
                values={"systolic": s, "diastolic": d, "pulse": p},
                flags=fl,
            )
            for ts, s, d, p, fl in rows
        ]
    )
    return len(rows)
