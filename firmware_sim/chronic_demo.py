"""The demo's chronic conditions: R001 has type 2 diabetes and a glucose meter, R002 heart failure and a
scale (native JSON devices in their homes), with four weeks of history so the doctor's pages have trends."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.config import DeviceConfig
from server.db.models import Reading, Resident

GLUCOMETER = DeviceConfig(name="glucometer", family="native", role="glucose_meter", room="kitchen")
SCALE = DeviceConfig(name="scale", family="native", role="scale", room="bathroom")
DEVICES = {"R001": [GLUCOMETER], "R002": [SCALE]}
# R002's heart failure: the gateway warns of more than 2 kg gained in 3 days (a setting, docs/rules.md).
RULES = {"weight_gain": {"residents": {"R002": {"watch": True, "gain_kg": 2.0, "days": 3}}}}
# Four fingersticks a day: fasting, after lunch, before dinner, bedtime (mmol/L means of a diabetic
# resident whose control is not quite on target).
GLUCOSE_DAY = (
    ("fasting", time(6, 40), 7.4),
    ("after_meal", time(13, 10), 10.6),
    ("before_meal", time(17, 50), 6.6),
    ("bedtime", time(21, 30), 8.4),
)


def glucose_history(first: date, days: int, tz: ZoneInfo, seed: int = 1) -> list[tuple[datetime, float, str]]:
    """(time, mmol/L, context) for `days` days, one low before dinner in the third week."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(days):
        for context, at, mean in GLUCOSE_DAY:
            value = 3.4 if (d == 16 and context == "before_meal") else max(2.5, rng.normal(mean, 1.2))
            rows.append((datetime.combine(first + timedelta(days=d), at, tzinfo=tz), round(value, 1), context))
    return rows


def weight_history(first: date, days: int, tz: ZoneInfo, seed: int = 2) -> list[tuple[datetime, float]]:
    """A morning weighing a day; stable, then 2.4 kg in three days in the last week (fluid retention)."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(days):
        gain = max(0, min(3, d - (days - 5))) * 0.8
        rows.append(
            (
                datetime.combine(first + timedelta(days=d), time(7, 5), tzinfo=tz),
                round(68.0 + gain + rng.normal(0, 0.15), 1),
            )
        )
    return rows


def seed_history(session: Session, today: date, days: int = 28, tz: ZoneInfo = ZoneInfo("Asia/Shanghai")) -> int:
    """Store the demo residents' history up to yesterday; the caller commits. Returns readings added."""
    people = {r.code: r for r in session.scalars(select(Resident).where(Resident.code.in_(list(DEVICES))))}
    first, added = today - timedelta(days=days), 0
    if (r := people.get("R001")) is not None:
        for ts, value, context in glucose_history(first, days, tz):
            session.add(
                Reading(
                    resident_id=r.id,
                    gateway_id="gw-r001",
                    device=GLUCOMETER.name,
                    metric="glucose",
                    ts=ts.astimezone(UTC),
                    values={"glucose_mmol_l": value},
                    flags=[context],
                )
            )
            added += 1
    if (r := people.get("R002")) is not None:
        for ts, kg in weight_history(first, days, tz):
            session.add(
                Reading(
                    resident_id=r.id,
                    gateway_id="gw-r002",
                    device=SCALE.name,
                    metric="weight",
                    ts=ts.astimezone(UTC),
                    values={"weight_kg": kg},
                    flags=[],
                )
            )
            added += 1
    return added
