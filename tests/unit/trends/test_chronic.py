"""Glucose, SpO2 and weight figures equal values computed by hand (working in the comments)."""

from __future__ import annotations

from datetime import UTC

import pytest

from server.trends.chronic import glucose_figures, picture, spo2_figures, weight_figures
from tests.unit.trends.build import GLUCOSE

H, DAY = 3600.0, 86400.0


def test_glucose_figures_by_hand() -> None:
    g = glucose_figures(GLUCOSE)
    assert g.readings == 8 and g.mean == pytest.approx(6.0)  # 48.0 / 8
    # deviations -1, 3, -2.5, 1.5, -3.2, -2.8, 5, 0; squares sum 61.58; / 7 = 8.797143; sqrt = 2.96600
    assert g.sd == pytest.approx(2.96600, abs=1e-5)
    assert g.cv == pytest.approx(2.96600 / 6.0 * 100, abs=1e-3)  # 49.43 %
    assert g.share_in_range == pytest.approx(3 / 8)
    assert (g.hypo_events, g.hypo_level_2_events, g.lowest) == (2, 1, 2.8)
    by = {c.context: c for c in g.by_context}
    assert (by["fasting"].readings, by["fasting"].mean, by["fasting"].share_in_range) == (
        3,
        pytest.approx(18.5 / 3),
        pytest.approx(2 / 3),
    )
    assert (by["before_meal"].mean, by["before_meal"].share_in_range) == (pytest.approx(3.0), 0.0)
    assert (by["after_meal"].mean, by["after_meal"].share_in_range) == (pytest.approx(10.0), 0.5)
    assert (by["bedtime"].readings, by["other"].readings, by["other"].mean) == (1, 0, None)


def test_fasting_bounds_are_inclusive_and_non_fasting_10_is_out() -> None:
    g = glucose_figures(
        [
            (0, 4.4, "fasting"),
            (1, 7.0, "fasting"),
            (2, 9.9, "after_meal"),
            (3, 10.0, "after_meal"),
            (4, 4.3, "fasting"),
            (5, 3.9, "casual"),
        ]
    )
    assert g.share_in_range == pytest.approx(4 / 6) and g.hypo_events == 0


SPO2 = [
    (0, 92, "continuous"),
    (10, 88, "continuous"),
    (20, 87, "continuous"),
    (30, 91, "continuous"),
    (40, 95, "continuous"),
    (200, 85, "continuous"),
    (1000, 89, ""),
]


def test_spo2_distribution_and_time_below_threshold_by_hand() -> None:
    s = spo2_figures(SPO2, 90)
    # spans: 10 s at 92, 10 s at 88 (below), 10 s at 87 (below), 10 s at 91, 160 s at 95 capped to 60 s
    assert s.recorded_min == pytest.approx(100 / 60) and s.below_min == pytest.approx(20 / 60)
    assert s.share_below == pytest.approx(0.2)
    assert s.spot_below == 1 and s.lowest == 85 and s.mean == pytest.approx(627 / 7)
    assert s.bands == [
        ("<85", 0.0),
        ("85–89.9", pytest.approx(4 / 7)),
        ("90–93.9", pytest.approx(2 / 7)),
        ("≥94", pytest.approx(1 / 7)),
    ]


def test_a_copd_threshold_counts_less_time_below() -> None:
    assert spo2_figures(SPO2, 88).below_min == pytest.approx(10 / 60)  # only the 87 % sample


WEIGHT = [(0 * DAY, 70.0, ""), (1 * DAY, 70.5, ""), (2 * DAY, 71.0, ""), (3 * DAY, 72.3, ""), (7 * DAY, 71.0, "")]


def test_weight_figures_by_hand() -> None:
    w = weight_figures(WEIGHT)
    assert (w.first, w.last, w.change) == (70.0, 71.0, pytest.approx(1.0))
    assert w.max_gain_3_days == pytest.approx(2.3)  # day 3 against day 0's 70.0
    # OLS: mean t 2.6 d, mean y 70.96; Sxy 3.92, Sxx 29.2 -> 0.134247 kg/day = 0.93973 kg/week
    assert w.slope is not None and w.slope.per_week == pytest.approx(0.93973, abs=1e-4)


def test_warnings_rank_the_cohort() -> None:
    p = picture(GLUCOSE, SPO2, WEIGHT)
    assert p.warnings == ["hypoglycaemia_level_2", "low_spo2", "weight_gain", "glucose_off_target", "glucose_unstable"]
    assert p.risk == 16 + 8 + 8 + 2 + 2
    assert picture([], [], WEIGHT, watch_weight=False).warnings == []
    assert picture([(0, 3.5, "fasting")], [], []).warnings == ["hypoglycaemia"]


def test_the_influx_mirror_writes_glucose_with_its_meal_context() -> None:
    from datetime import datetime

    from server.timeseries import to_point

    point = to_point(
        {
            "resident_id": 7,
            "gateway_id": "gw",
            "device": "meter",
            "metric": "glucose",
            "ts": datetime(2026, 3, 1, tzinfo=UTC),
            "flags": ["context_follows", "fasting"],
            "values": {"glucose_mmol_l": 6.1, "sequence": 12},
        }
    )
    assert point is not None
    line = point.to_line_protocol()
    assert line.startswith("glucose,context=fasting,device=meter,gateway=gw,resident_id=7 ")
    assert "glucose_mmol_l=6.1" in line
