"""Pydantic Out schemas of the trends API (figures rounded only by the clients that show them)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from server.trends import stats
from server.trends.series import day_date
from server.trends.service import CohortEntry
from server.trends.summary import Summary


class Pressure(BaseModel):
    """A systolic/diastolic pair in mmHg; either may be missing for lack of readings."""

    systolic: float | None
    diastolic: float | None


class SlopeOut(BaseModel):
    """mmHg per week with its 95 % confidence interval."""

    per_week: float
    low: float
    high: float
    readings: int


class HomeAverageOut(BaseModel):
    """The 7-2-2 home average of the period's last seven days."""

    first_day_excluded: date
    last_day: date
    readings: int
    systolic: float | None
    diastolic: float | None
    diagnostic: bool
    hypertensive: bool | None
    threshold: Pressure


class WeekOut(BaseModel):
    """Plain means of one seven-day block."""

    first_day: date
    last_day: date
    readings: int
    systolic: float | None
    diastolic: float | None


class SummaryOut(BaseModel):
    """Every figure of docs/trends.md for one resident and period."""

    resident: str
    name: str
    first_day: date
    last_day: date
    target: Pressure
    readings: int
    measured_days: int
    missed_days: int
    days_since_last: int | None
    home_average: HomeAverageOut
    mean: Pressure
    pulse: float | None
    morning: Pressure
    evening: Pressure
    morning_minus_evening: Pressure
    sd_systolic: float | None
    cv_systolic_percent: float | None
    arv_systolic: float | None
    share_above_target: float | None
    slope_systolic: SlopeOut | None
    slope_diastolic: SlopeOut | None
    previous_period: Pressure
    change: Pressure
    flag_counts: dict[str, int]
    crisis_readings: int
    weeks: list[WeekOut]
    warnings: list[str]
    risk: int


class CohortOut(BaseModel):
    """One line of the cohort list."""

    resident: str
    name: str
    risk: int
    warnings: list[str]
    latest_week_systolic: float | None
    home_average: Pressure
    share_above_target: float | None
    readings: int
    missed_days: int
    last_reading: datetime | None


class MirrorOut(BaseModel):
    """The InfluxDB mirror's state."""

    enabled: bool
    counters: dict[str, int]
    pending: int


def _p(pair: tuple[float | None, float | None]) -> Pressure:
    return Pressure(systolic=pair[0], diastolic=pair[1])


def _slope(s: stats.Slope | None) -> SlopeOut | None:
    return None if s is None else SlopeOut(per_week=s.per_week, low=s.low, high=s.high, readings=s.n)


def summary_out(code: str, name: str, s: Summary, limit: tuple[float, float]) -> SummaryOut:
    """The API form of a summary."""
    h = s.home
    return SummaryOut(
        resident=code,
        name=name,
        first_day=day_date(s.period.first_day),
        last_day=day_date(s.period.last_day),
        target=_p(s.target),
        readings=s.readings,
        measured_days=s.measured_days,
        missed_days=s.missed_days,
        days_since_last=s.days_since_last,
        home_average=HomeAverageOut(
            first_day_excluded=day_date(h.first_day),
            last_day=day_date(h.last_day),
            readings=h.readings,
            systolic=h.systolic,
            diastolic=h.diastolic,
            diagnostic=h.diagnostic,
            hypertensive=h.hypertensive,
            threshold=_p(limit),
        ),
        mean=_p((s.systolic, s.diastolic)),
        pulse=s.pulse,
        morning=_p(s.morning),
        evening=_p(s.evening),
        morning_minus_evening=_p(s.morning_minus_evening),
        sd_systolic=s.sd_systolic,
        cv_systolic_percent=s.cv_systolic,
        arv_systolic=s.arv_systolic,
        share_above_target=s.share_above_target,
        slope_systolic=_slope(s.slope_systolic),
        slope_diastolic=_slope(s.slope_diastolic),
        previous_period=_p(s.previous),
        change=_p(s.change),
        flag_counts=s.flag_counts,
        crisis_readings=s.crisis_readings,
        weeks=[
            WeekOut(
                first_day=day_date(w.first_day),
                last_day=day_date(w.last_day),
                readings=w.readings,
                systolic=w.systolic,
                diastolic=w.diastolic,
            )
            for w in s.weeks
        ],
        warnings=s.warnings,
        risk=s.risk,
    )


def cohort_out(e: CohortEntry) -> CohortOut:
    """The API form of a cohort line."""
    s = e.summary
    return CohortOut(
        resident=e.resident.code,
        name=e.resident.name,
        risk=e.risk,
        warnings=e.warnings,
        latest_week_systolic=e.latest_systolic,
        home_average=_p((s.home.systolic, s.home.diastolic)),
        share_above_target=s.share_above_target,
        readings=s.readings,
        missed_days=s.missed_days,
        last_reading=e.last_reading,
    )
