"""Low blood pressure and pulse flags on the doctor's cohort (issue 16): elderly residents averaging
77–96 systolic used to sort last with no tag."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np

from server.trends.series import build_series
from server.trends.summary import low_and_pulse


def series(systolic: list[float], diastolic: list[float], pulse: list[float]):
    n = len(systolic)
    t = np.arange(n, dtype=float) * 43_200 + 1_767_225_600
    return build_series(
        t,
        np.array(systolic, float),
        np.array(diastolic, float),
        np.array(pulse, float),
        np.zeros(n, np.uint8),
        ZoneInfo("Asia/Shanghai"),
    )


def test_low_mean_systolic_is_flagged() -> None:
    assert low_and_pulse(series([96, 92, 88, 94], [62, 60, 58, 61], [70, 72, 68, 70])) == ["low_bp"]


def test_a_quarter_of_readings_below_90_60_is_flagged_even_with_a_normal_mean() -> None:
    assert low_and_pulse(series([128, 85, 130, 126], [80, 55, 82, 78], [70] * 4)) == ["low_bp"]


def test_pulse_out_of_50_to_100_is_flagged_and_normal_readings_are_not() -> None:
    assert low_and_pulse(series([128] * 4, [80] * 4, [46, 48, 45, 47])) == ["pulse_low"]
    assert low_and_pulse(series([128] * 4, [80] * 4, [104, 110, 106, 108])) == ["pulse_high"]
    assert low_and_pulse(series([128] * 4, [80] * 4, [70, 72, 68, 71])) == []
    assert low_and_pulse(series([90, 88], [58, 57], [40, 42])) == [], "too few readings to judge"
