"""The doctor's questions, answered from the store: one resident's period, and the cohort by risk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from server.db.models import Resident
from server.trends import chronic_service, store
from server.trends.chronic import ChronicPicture
from server.trends.errors import TrendsError
from server.trends.guideline import target_of, threshold
from server.trends.series import BPSeries, day_end_utc, day_number, day_start_utc, from_rows, local_today, zone
from server.trends.summary import Period, Screening, Summary, screen, summarize

RESIDENT_DAYS = 28
COHORT_DAYS = 14
# Home blood pressure is measured in this century: outside it, a date is a typo (and the period before a
# year-1 `until` would not be a date at all), so it is refused with a 422 rather than computed.
FIRST_UNTIL, LAST_UNTIL = date(2000, 1, 1), date(2199, 12, 31)


@dataclass(frozen=True)
class ResidentTrend:
    """One resident's period: the readings (current and previous period) and their summary."""

    resident: Resident
    series: BPSeries
    summary: Summary
    limit: tuple[float, float]


@dataclass(frozen=True)
class CohortEntry:
    """One line of the cohort list."""

    resident: Resident
    summary: Screening
    last_reading: datetime | None
    chronic: ChronicPicture | None = None

    @property
    def warnings(self) -> list[str]:
        """Blood-pressure warnings, then glucose, SpO2 and weight ones."""
        return self.summary.warnings + (self.chronic.warnings if self.chronic else [])

    @property
    def risk(self) -> int:
        """The ordering score over every condition."""
        return self.summary.risk + (self.chronic.risk if self.chronic else 0)

    @property
    def latest_systolic(self) -> float | None:
        """The most recent weekly systolic mean that had enough readings."""
        weeks = [w.systolic for w in self.summary.weeks if w.systolic is not None]
        return weeks[-1] if weeks else None


def period_for(resident: Resident, now: datetime, days: int, until: date | None = None) -> Period:
    """The `days` local days ending on `until` (default: the resident's today); raises TrendsError out of range."""
    if until is not None and not FIRST_UNTIL <= until <= LAST_UNTIL:
        raise TrendsError(f"until must be between {FIRST_UNTIL} and {LAST_UNTIL}; got {until}")
    last = day_number(until) if until else local_today(now, zone(resident.timezone))
    return Period(last - days + 1, last)


def resident_trend(
    session: Session,
    resident: Resident,
    now: datetime,
    days: int = RESIDENT_DAYS,
    until: date | None = None,
    threshold_name: str = "135/85",
) -> ResidentTrend:
    """Load the period and the one before it, and compute the summary."""
    limit = threshold(threshold_name)
    period = period_for(resident, now, days, until)
    tz = zone(resident.timezone)
    rows = store.load_rows(
        session, [resident.id], day_start_utc(period.previous().first_day, tz), day_end_utc(period.last_day, tz)
    ).get(resident.id, [])
    series = from_rows(rows, tz)
    return ResidentTrend(
        resident, series, summarize(series, period, target_of(resident.bp_target, limit), limit), limit
    )


def _risk_key(e: CohortEntry) -> tuple[int, float, str]:
    latest = e.latest_systolic
    return (-e.risk, -(latest if latest is not None else -1.0), e.resident.code)


def cohort(
    session: Session, now: datetime, days: int = COHORT_DAYS, threshold_name: str = "135/85"
) -> list[CohortEntry]:
    """Every resident's summary for the last `days` days, highest risk first."""
    limit = threshold(threshold_name)
    people = store.residents(session)
    if not people:
        return []
    periods = {r.id: period_for(r, now, days) for r in people}
    since = min(day_start_utc(p.first_day, zone(r.timezone)) for r, p in zip(people, periods.values(), strict=False))
    until = max(day_end_utc(p.last_day, zone(r.timezone)) for r, p in zip(people, periods.values(), strict=False))
    ids = [r.id for r in people]
    rows = store.load_rows(session, ids, since, until)
    last = store.last_reading_times(session, ids)
    chronic = chronic_service.pictures(session, people, periods)
    entries = []
    for r in people:
        series = from_rows(rows.get(r.id, []), zone(r.timezone))
        summary = screen(series, periods[r.id], target_of(r.bp_target, limit), limit)
        entries.append(CohortEntry(r, summary, last.get(r.id), chronic.get(r.id)))
    return sorted(entries, key=_risk_key)
