"""Home blood pressure by the 7-2-2 protocol (Chinese guideline 2024, ESH 2023) and its thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from server.trends.series import EVENING, MORNING, BPSeries

ThresholdName = Literal["135/85", "130/80"]
THRESHOLDS: dict[str, tuple[float, float]] = {"135/85": (135.0, 85.0), "130/80": (130.0, 80.0)}
PROTOCOL_DAYS = 7
MIN_READINGS = 12  # a diagnostic home average needs at least 12 readings after day 1 is dropped
CRISIS = (180.0, 110.0)  # grade 3: any single reading at or above this is shown to the doctor


def threshold(name: str) -> tuple[float, float]:
    """The (systolic, diastolic) limit of a named home-BP threshold."""
    try:
        return THRESHOLDS[name]
    except KeyError:
        raise ValueError(f"threshold must be one of {', '.join(THRESHOLDS)}, not {name!r}") from None


@dataclass(frozen=True)
class HomeAverage:
    """The 7-2-2 average of one seven-day window."""

    first_day: int  # the window's day 1, excluded from the average
    last_day: int
    readings: int  # morning and evening readings of days 2..7
    systolic: float | None
    diastolic: float | None
    diagnostic: bool  # at least MIN_READINGS readings
    hypertensive: bool | None  # at or above the threshold; None unless diagnostic


def home_average(series: BPSeries, last_day: int, limit: tuple[float, float] = THRESHOLDS["135/85"]) -> HomeAverage:
    """7-2-2: morning and evening readings of the 7 days ending last_day, day 1 dropped, averaged."""
    first_day = last_day - PROTOCOL_DAYS + 1
    window = series.between_days(first_day + 1, last_day)
    keep = (window.session == MORNING) | (window.session == EVENING)
    sys_, dia = window.systolic[keep], window.diastolic[keep]
    n = int(sys_.size)
    s = float(sys_.mean()) if n else None
    d = float(dia.mean()) if n else None
    diagnostic = n >= MIN_READINGS
    hyper = None
    if diagnostic and s is not None and d is not None:
        hyper = s >= limit[0] or d >= limit[1]
    return HomeAverage(first_day, last_day, n, s, d, diagnostic, hyper)


def above(systolic: np.ndarray, diastolic: np.ndarray, target: tuple[float, float]) -> np.ndarray:
    """Readings at or above a target in either pressure (the goal is to stay below both)."""
    return (systolic >= target[0]) | (diastolic >= target[1])


def target_of(bp_target: dict[str, Any] | None, default: tuple[float, float]) -> tuple[float, float]:
    """A resident's (systolic, diastolic) target from their record, the threshold where unset."""
    bp_target = bp_target or {}
    try:
        return (float(bp_target.get("systolic", default[0])), float(bp_target.get("diastolic", default[1])))
    except (TypeError, ValueError):
        return default
