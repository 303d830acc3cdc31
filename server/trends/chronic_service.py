"""The chronic-condition picture of one resident or of the cohort, loaded from the store for a period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from server.db.models import Resident
from server.trends import chronic, chronic_store
from server.trends.series import day_end_utc, day_start_utc, zone
from server.trends.summary import Period

# How a resident's recorded conditions (free text, usually Chinese) change the figures.
COPD_WORDS = ("慢阻肺", "慢性阻塞性肺", "copd")
HEART_FAILURE_WORDS = ("心衰", "心力衰竭", "heart failure")
COPD_SPO2_THRESHOLD = 88.0  # BTS 2017: target 88-92 % for those at risk of hypercapnic respiratory failure


def _has(resident: Resident, words: Sequence[str]) -> bool:
    return any(w in str(c).lower() for c in (resident.conditions or []) for w in words)


def spo2_threshold(resident: Resident) -> float:
    """90 %, or 88 % for a resident with COPD."""
    return COPD_SPO2_THRESHOLD if _has(resident, COPD_WORDS) else 90.0


def watches_weight(resident: Resident) -> bool:
    """Weight gain is a warning for residents with heart failure."""
    return _has(resident, HEART_FAILURE_WORDS)


def pictures(
    session: Session, people: Sequence[Resident], periods: dict[int, Period]
) -> dict[int, chronic.ChronicPicture]:
    """Each resident's picture over their own period (one query for all)."""
    if not people:
        return {}
    since = min(day_start_utc(periods[r.id].first_day, zone(r.timezone)) for r in people)
    until = max(day_end_utc(periods[r.id].last_day, zone(r.timezone)) for r in people)
    rows = chronic_store.load(session, [r.id for r in people], since, until)
    out = {}
    for r in people:
        tz, p = zone(r.timezone), periods[r.id]
        lo, hi = day_start_utc(p.first_day, tz).timestamp(), day_end_utc(p.last_day, tz).timestamp()
        mine = {
            m: [row for row in rows.get(r.id, {}).get(m, []) if lo <= row[0] < hi]
            for m in ("glucose", "spo2", "weight")
        }
        out[r.id] = chronic.picture(mine["glucose"], mine["spo2"], mine["weight"], spo2_threshold(r), watches_weight(r))
    return out


def resident_picture(
    session: Session, resident: Resident, now: datetime, days: int, until: date | None = None
) -> tuple[Period, chronic.ChronicPicture]:
    """One resident's period and picture."""
    from server.trends.service import period_for

    period = period_for(resident, now, days, until)
    return period, pictures(session, [resident], {resident.id: period})[resident.id]
