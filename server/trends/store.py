"""Reads blood-pressure readings, residents and alarms out of the relational store for the trends views."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from server.db.models import Alarm, Reading, Resident
from server.trends.series import BPSeries, Row, from_rows, zone

METRIC = "blood_pressure"


def _columns() -> tuple[Any, ...]:
    # Pressures are pulled out of the JSON in SQL so that Python does not parse every document.
    # Flags come as text and are parsed only when not empty (almost every reading has none).
    return (
        Reading.resident_id,
        Reading.ts,
        Reading.values["systolic"].as_float(),
        Reading.values["diastolic"].as_float(),
        Reading.values["pulse"].as_float(),
        cast(Reading.flags, String),
    )


def _flags(text: str | None) -> list[str]:
    if not text or text == "[]":
        return []
    doc = json.loads(text)
    return [str(f) for f in doc] if isinstance(doc, list) else []


def _usable(r: Sequence[Any]) -> bool:
    # A stored reading without both pressures (another monitor's format) cannot enter the figures.
    return r[2] is not None and r[3] is not None


def load_rows(session: Session, resident_ids: Sequence[int], since: datetime, until: datetime) -> dict[int, list[Row]]:
    """Blood-pressure rows (ts, systolic, diastolic, pulse, flags) per resident, since <= ts < until."""
    q = (
        select(*_columns())
        .where(Reading.metric == METRIC, Reading.resident_id.in_(resident_ids), Reading.ts >= since, Reading.ts < until)
        .order_by(Reading.resident_id, Reading.ts)
    )
    out: dict[int, list[Row]] = defaultdict(list)
    for r in session.execute(q):
        if _usable(r):
            out[r[0]].append((r[1], r[2], r[3], r[4], _flags(r[5])))
    return out


def load_series(session: Session, resident: Resident, since: datetime, until: datetime) -> BPSeries:
    """One resident's readings in a window, as a series in their time zone."""
    rows = load_rows(session, [resident.id], since, until).get(resident.id, [])
    return from_rows(rows, zone(resident.timezone))


def last_reading_times(session: Session, resident_ids: Sequence[int]) -> dict[int, datetime]:
    """When each resident last measured their blood pressure, at any time."""
    q = (
        select(Reading.resident_id, func.max(Reading.ts))
        .where(Reading.metric == METRIC, Reading.resident_id.in_(resident_ids))
        .group_by(Reading.resident_id)
    )
    return {rid: _aware(ts) for rid, ts in session.execute(q) if rid is not None and ts is not None}


def residents(session: Session) -> list[Resident]:
    """Every resident, by code."""
    return list(session.scalars(select(Resident).order_by(Resident.code)))


def resident_by_code(session: Session, code: str) -> Resident | None:
    """One resident by their code."""
    return session.scalars(select(Resident).where(Resident.code == code)).first()


def alarms_between(session: Session, resident_id: int, since: datetime, until: datetime) -> list[Alarm]:
    """The resident's alarms raised in the window, oldest first."""
    q = (
        select(Alarm)
        .where(Alarm.resident_id == resident_id, Alarm.raised_at >= since, Alarm.raised_at < until)
        .order_by(Alarm.raised_at)
    )
    return list(session.scalars(q))


def export_rows(session: Session, resident_id: int, since: datetime, until: datetime) -> list[Reading]:
    """Full reading records for exports (device, gateway and all values), oldest first."""
    q = (
        select(Reading)
        .where(Reading.metric == METRIC, Reading.resident_id == resident_id, Reading.ts >= since, Reading.ts < until)
        .order_by(Reading.ts)
    )
    return [r for r in session.scalars(q) if _has_pressures(r.values)]


def _has_pressures(values: dict[str, Any]) -> bool:
    return all(isinstance(values.get(k), (int, float)) for k in ("systolic", "diastolic"))


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)
