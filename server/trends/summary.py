"""One resident's blood-pressure picture over a period: readings in, figures and warning flags out."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from server.trends import stats
from server.trends.errors import BadPeriod
from server.trends.guideline import CRISIS, THRESHOLDS, HomeAverage, above, home_average
from server.trends.series import EVENING, FLAGS, MORNING, BPSeries

MAX_DAYS = 731
MIN_WEEK_READINGS = 3  # a weekly mean from fewer readings is not compared
RISE_MMHG = 10.0  # weekly systolic mean up by this much or more is "rising"
STALE_DAYS = 3  # this many days without a reading is "not measuring"

# Warning flags, most urgent first; the weights order the cohort list (docs/trends.md).
RISK_WEIGHTS = {
    "crisis": 16,
    "above_target_2_weeks": 8,
    "rising": 4,
    "above_target": 2,
    "not_measuring": 2,
    "low_bp": 8,
    "pulse_low": 4,
    "pulse_high": 4,
}
# Low pressure and pulse (docs/trends.md): hypotension is < 90/60 mmHg (ESH 2023; 中国高血压防治指南 2024);
# an elderly resident's home mean below 100 systolic suggests over-treatment. Resting pulse outside 50–100/min.
LOW_BP = (90.0, 60.0)
LOW_MEAN_SYSTOLIC = 100.0
PULSE_RANGE = (50.0, 100.0)


@dataclass(frozen=True)
class Period:
    """Local calendar days first..last inclusive (day numbers since 1970-01-01)."""

    first_day: int
    last_day: int

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise BadPeriod("a period must end on or after the day it starts")
        if self.days > MAX_DAYS:
            raise BadPeriod(f"a period may cover at most {MAX_DAYS} days")

    @property
    def days(self) -> int:
        """Its length in days."""
        return self.last_day - self.first_day + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.first_day - self.days, self.first_day - 1)


@dataclass(frozen=True)
class WeekStat:
    """Plain means of one seven-day block."""

    first_day: int
    last_day: int
    readings: int
    systolic: float | None
    diastolic: float | None


@dataclass(frozen=True)
class Screening:
    """The figures the cohort list needs: enough to rank, cheap enough for a thousand residents."""

    period: Period
    target: tuple[float, float]
    readings: int
    measured_days: int
    missed_days: int
    days_since_last: int | None  # counted back from the period's last day; None when never measured
    home: HomeAverage
    share_above_target: float | None
    crisis_readings: int
    weeks: list[WeekStat]
    warnings: list[str]

    @property
    def risk(self) -> int:
        """The cohort ordering score: the weights of the warnings raised."""
        return sum(RISK_WEIGHTS[w] for w in self.warnings)


@dataclass(frozen=True)
class Summary:
    """Every figure of docs/trends.md for one resident and period."""

    period: Period
    target: tuple[float, float]
    readings: int
    measured_days: int
    missed_days: int
    days_since_last: int | None  # counted back from the period's last day; None when never measured
    home: HomeAverage
    systolic: float | None
    diastolic: float | None
    pulse: float | None
    morning: tuple[float | None, float | None]
    evening: tuple[float | None, float | None]
    morning_minus_evening: tuple[float | None, float | None]
    sd_systolic: float | None
    cv_systolic: float | None
    arv_systolic: float | None
    share_above_target: float | None
    slope_systolic: stats.Slope | None
    slope_diastolic: stats.Slope | None
    previous: tuple[float | None, float | None]
    change: tuple[float | None, float | None]
    flag_counts: dict[str, int]
    crisis_readings: int
    weeks: list[WeekStat] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def risk(self) -> int:
        """The cohort ordering score: the weights of the warnings raised."""
        return sum(RISK_WEIGHTS[w] for w in self.warnings)


def _pair(s: BPSeries) -> tuple[float | None, float | None]:
    return stats.mean(s.systolic), stats.mean(s.diastolic)


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def weekly(series: BPSeries, period: Period) -> list[WeekStat]:
    """Seven-day blocks ending on the period's last day, oldest first; a leading partial block is left out."""
    out = []
    for k in range(period.days // 7 - 1, -1, -1):
        last = period.last_day - 7 * k
        w = series.between_days(last - 6, last)
        ok = len(w) >= MIN_WEEK_READINGS
        out.append(
            WeekStat(
                last - 6, last, len(w), stats.mean(w.systolic) if ok else None, stats.mean(w.diastolic) if ok else None
            )
        )
    return out


def warnings_for(
    weeks: list[WeekStat], target: tuple[float, float], days_since_last: int | None, crisis_readings: int
) -> list[str]:
    """The deterioration flags, most urgent first."""
    out = []
    if crisis_readings:
        out.append("crisis")
    last2 = [w for w in weeks[-2:] if w.systolic is not None and w.diastolic is not None]
    pressures = [(w.systolic, w.diastolic) for w in last2 if w.systolic is not None and w.diastolic is not None]
    is_above = [sys_ >= target[0] or dia >= target[1] for sys_, dia in pressures]
    if len(last2) == 2 and all(is_above):
        out.append("above_target_2_weeks")
    if len(pressures) == 2 and pressures[1][0] - pressures[0][0] >= RISE_MMHG:
        out.append("rising")
    if last2 and last2[-1] is weeks[-1] and is_above[-1] and "above_target_2_weeks" not in out:
        out.append("above_target")
    if days_since_last is None or days_since_last >= STALE_DAYS:
        out.append("not_measuring")
    return out


def low_and_pulse(cur: BPSeries) -> list[str]:
    """Low blood pressure (mean systolic < 100, or a quarter of readings < 90/60) and pulse out of 50–100/min."""
    out = []
    if len(cur) >= MIN_WEEK_READINGS:
        low = (cur.systolic < LOW_BP[0]) | (cur.diastolic < LOW_BP[1])
        if float(np.mean(cur.systolic)) < LOW_MEAN_SYSTOLIC or float(low.mean()) >= 0.25:
            out.append("low_bp")
    pulse = cur.pulse[~np.isnan(cur.pulse)]
    if pulse.size >= MIN_WEEK_READINGS:
        mean = float(pulse.mean())
        if mean < PULSE_RANGE[0]:
            out.append("pulse_low")
        elif mean > PULSE_RANGE[1]:
            out.append("pulse_high")
    return out


def screen(
    series: BPSeries,
    period: Period,
    target: tuple[float, float] | None = None,
    limit: tuple[float, float] = THRESHOLDS["135/85"],
) -> Screening:
    """The ranking figures of the period: counts, 7-2-2 average, share above target, weeks, warnings."""
    target = target or limit
    cur = series.between_days(period.first_day, period.last_day)
    last = np.searchsorted(series.day, period.last_day, side="right")
    since = int(period.last_day - series.day[last - 1]) if last else None
    measured = int(np.count_nonzero(np.diff(cur.day))) + 1 if len(cur) else 0  # days are sorted
    is_above = above(cur.systolic, cur.diastolic, target)
    crisis = int(np.count_nonzero(above(cur.systolic, cur.diastolic, CRISIS)))
    weeks = weekly(series, period)
    return Screening(
        period=period,
        target=target,
        readings=len(cur),
        measured_days=measured,
        missed_days=period.days - measured,
        days_since_last=since,
        home=home_average(series, period.last_day, limit),
        share_above_target=float(is_above.mean()) if len(cur) else None,
        crisis_readings=crisis,
        weeks=weeks,
        warnings=warnings_for(weeks, target, since, crisis) + low_and_pulse(cur),
    )


def summarize(
    series: BPSeries,
    period: Period,
    target: tuple[float, float] | None = None,
    limit: tuple[float, float] = THRESHOLDS["135/85"],
) -> Summary:
    """All figures for the period; series may hold earlier readings (the previous period, the last one)."""
    sc = screen(series, period, target, limit)
    cur = series.between_days(period.first_day, period.last_day)
    prev = series.between_days(period.previous().first_day, period.previous().last_day)
    _, daily_sys = stats.group_means(cur.day, cur.systolic)
    morning, evening = _pair(cur.select(cur.session == MORNING)), _pair(cur.select(cur.session == EVENING))
    cur_pair, prev_pair = _pair(cur), _pair(prev)
    pulse = cur.pulse[~np.isnan(cur.pulse)]
    return Summary(
        period=period,
        target=sc.target,
        readings=sc.readings,
        measured_days=sc.measured_days,
        missed_days=sc.missed_days,
        days_since_last=sc.days_since_last,
        home=sc.home,
        systolic=cur_pair[0],
        diastolic=cur_pair[1],
        pulse=stats.mean(pulse),
        morning=morning,
        evening=evening,
        morning_minus_evening=(_diff(morning[0], evening[0]), _diff(morning[1], evening[1])),
        sd_systolic=stats.sd(daily_sys),
        cv_systolic=stats.cv(daily_sys),
        arv_systolic=stats.arv(daily_sys),
        share_above_target=sc.share_above_target,
        slope_systolic=stats.slope_per_week(cur.t, cur.systolic),
        slope_diastolic=stats.slope_per_week(cur.t, cur.diastolic),
        previous=prev_pair,
        change=(_diff(cur_pair[0], prev_pair[0]), _diff(cur_pair[1], prev_pair[1])),
        flag_counts={name: cur.flag_count(name) for name in FLAGS},
        crisis_readings=sc.crisis_readings,
        weeks=sc.weeks,
        warnings=sc.warnings,
    )
