"""A resident's period summary, figure by figure, against numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from server.trends.errors import BadPeriod
from server.trends.stats import arv, cv, sd, slope_per_week, t975
from server.trends.summary import Period, summarize
from tests.unit.trends.build import dn, series


def test_variability_of_daily_means() -> None:
    # Daily systolic means 120, 130, 125, 135: mean 127.5, squares 56.25+6.25+6.25+56.25 = 125,
    # SD = sqrt(125/3) = 6.455, CV = 6.455/127.5 = 5.063 %, ARV = (10+5+10)/3 = 8.333.
    s = series(
        [
            (0, "07:00", 118, 80),
            (0, "21:00", 122, 80),
            (1, "07:00", 130, 80),
            (2, "07:00", 125, 80),
            (3, "07:00", 140, 80),
            (3, "21:00", 130, 80),
        ]
    )
    out = summarize(s, Period(dn(0), dn(3)))
    assert out.sd_systolic == pytest.approx(6.4550, abs=1e-4)
    assert out.cv_systolic == pytest.approx(5.0628, abs=1e-4)
    assert out.arv_systolic == pytest.approx(25 / 3)


def test_small_statistics_refuse_too_little_data() -> None:
    one = np.array([120.0])
    assert (sd(one), cv(one), arv(one)) == (None, None, None)
    assert slope_per_week(np.array([0.0, 1.0]), np.array([1.0, 2.0])) is None


def test_slope_in_mmhg_per_week_with_its_confidence_interval() -> None:
    # Weeks 0..3, systolic 120, 126, 128, 136: Sxy = 25, Sxx = 5, slope 5; residuals 0, 1, -2, 1,
    # s^2 = 6/2 = 3, SE = sqrt(3/5) = 0.7746, t(0.975, 2) = 4.303 -> 5 ± 3.333.
    s = series([(0, "08:00", 120, 80), (7, "08:00", 126, 80), (14, "08:00", 128, 80), (21, "08:00", 136, 80)])
    slope = summarize(s, Period(dn(0), dn(21))).slope_systolic
    assert slope is not None
    assert slope.per_week == pytest.approx(5.0)
    assert (slope.low, slope.high) == pytest.approx((1.6668, 8.3332), abs=1e-3)


def test_t_quantiles_match_the_tables() -> None:
    assert t975(2) == 4.303
    assert t975(60) == pytest.approx(2.000, abs=1e-3)
    assert t975(120) == pytest.approx(1.980, abs=1e-3)


def test_morning_evening_share_above_target_and_flags() -> None:
    s = series(
        [
            (0, "07:00", 150, 90, 80, ["irregular_pulse"]),
            (0, "21:00", 130, 80),
            (1, "07:00", 140, 84, 70, ["body_movement", "cuff_too_loose"]),
            (1, "21:00", 134, 84),
            (1, "14:00", 120, 70, None, ["something_new", "cuff_loose"]),
        ]
    )
    out = summarize(s, Period(dn(0), dn(1)), target=(135, 85))
    assert out.morning == pytest.approx((145.0, 87.0))
    assert out.evening == pytest.approx((132.0, 82.0))
    assert out.morning_minus_evening == pytest.approx((13.0, 5.0))
    assert out.share_above_target == pytest.approx(2 / 5)  # 150/90 and 140/84: 130/80, 134/84, 120/70 are below
    assert out.pulse == pytest.approx(72.5)  # the reading without a pulse is left out
    # "cuff_loose" is the same status bit as "cuff_too_loose"; unknown flags are not counted
    assert out.flag_counts == {"irregular_pulse": 1, "body_movement": 1, "cuff_too_loose": 2, "improper_position": 0}


def test_missed_days_change_and_days_since_last() -> None:
    prev = [(d, "07:00", 130, 80) for d in range(14)]
    cur = [(d, "07:00", 140, 86) for d in (14, 15, 17, 18, 19, 20, 22)]
    out = summarize(series(prev + cur), Period(dn(14), dn(27)))
    assert out.readings == 7
    assert out.missed_days == 14 - 7
    assert out.previous == pytest.approx((130.0, 80.0))
    assert out.change == pytest.approx((10.0, 6.0))
    assert out.days_since_last == 5
    assert "not_measuring" in out.warnings


def test_weekly_mean_up_ten_is_rising_and_above_target() -> None:
    rows = [(d, "07:00", 128, 80) for d in range(7)] + [(d, "07:00", 138, 80) for d in range(7, 14)]
    out = summarize(series(rows), Period(dn(0), dn(13)), target=(135, 85))
    assert [w.systolic for w in out.weeks] == pytest.approx([128.0, 138.0])
    assert out.warnings == ["rising", "above_target"]


def test_above_target_two_weeks_running_and_crisis() -> None:
    rows = [(d, "07:00", 137, 80) for d in range(14)] + [(13, "21:00", 182, 100)]
    out = summarize(series(rows), Period(dn(0), dn(13)), target=(135, 85))
    assert out.crisis_readings == 1
    assert out.warnings == ["crisis", "above_target_2_weeks"]
    assert out.risk > summarize(series(rows[:-1]), Period(dn(0), dn(13)), target=(135, 85)).risk


def test_a_week_with_too_few_readings_is_not_compared() -> None:
    rows = [(0, "07:00", 120, 80), (1, "07:00", 120, 80)] + [(d, "07:00", 150, 80) for d in range(7, 14)]
    out = summarize(series(rows), Period(dn(0), dn(13)))
    assert out.weeks[0].systolic is None
    assert "rising" not in out.warnings


def test_nobody_measured_at_all() -> None:
    out = summarize(series([]), Period(dn(0), dn(27)))
    assert (out.readings, out.missed_days, out.days_since_last) == (0, 28, None)
    assert out.systolic is None and out.home.diagnostic is False
    assert out.warnings == ["not_measuring"]


def test_periods_must_make_sense() -> None:
    with pytest.raises(BadPeriod):
        Period(dn(5), dn(4))
    with pytest.raises(BadPeriod):
        Period(dn(0), dn(0) + 1000)
