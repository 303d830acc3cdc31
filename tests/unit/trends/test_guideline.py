"""7-2-2 home averages and the readings' local sessions, against hand-computed examples."""

from __future__ import annotations

import pytest

from server.trends.guideline import home_average, target_of, threshold
from server.trends.series import EVENING, MORNING, OTHER
from tests.unit.trends.build import dn, series


def protocol_week(morning: tuple[float, float], evening: tuple[float, float], day1: tuple[float, float]) -> list[tuple]:
    """Seven days, two readings each morning (07:00, 07:02) and evening (21:00, 21:02)."""
    rows: list[tuple] = []
    for day in range(7):
        m, e = (day1, day1) if day == 0 else (morning, evening)
        rows += [(day, "07:00", *m), (day, "07:02", *m), (day, "21:00", *e), (day, "21:02", *e)]
    return rows


def test_day_one_is_dropped_and_the_rest_averaged() -> None:
    # Days 2-7: 12 readings of 140/90 and 12 of 130/80 -> 135/85; day 1 (200/120) must not count.
    avg = home_average(series(protocol_week((140, 90), (130, 80), (200, 120))), dn(6))
    assert avg.readings == 24
    assert avg.systolic == pytest.approx(135.0)
    assert avg.diastolic == pytest.approx(85.0)
    assert avg.diagnostic is True
    assert avg.hypertensive is True  # 135/85 is "at or above"


def test_afternoon_and_night_readings_are_not_part_of_the_protocol() -> None:
    rows = protocol_week((120, 75), (120, 75), (120, 75)) + [(d, "15:00", 190, 110) for d in range(1, 7)]
    rows += [(d, "02:00", 190, 110) for d in range(1, 7)]
    avg = home_average(series(rows), dn(6))
    assert (avg.readings, avg.systolic, avg.hypertensive) == (24, 120.0, False)


def test_fewer_than_twelve_readings_is_not_diagnostic() -> None:
    # Mornings only, one reading a day, days 2-7: 6 readings, plus 5 evening ones = 11.
    rows = [(d, "07:30", 150, 95) for d in range(1, 7)] + [(d, "20:30", 150, 95) for d in range(1, 6)]
    avg = home_average(series(rows), dn(6))
    assert avg.readings == 11
    assert avg.systolic == pytest.approx(150.0)
    assert avg.diagnostic is False
    assert avg.hypertensive is None


def test_the_stricter_threshold_is_selectable() -> None:
    avg_rows = series(protocol_week((134, 84), (130, 80), (130, 80)))
    assert home_average(avg_rows, dn(6), threshold("135/85")).hypertensive is False  # 132/82
    assert home_average(avg_rows, dn(6), threshold("130/80")).hypertensive is True
    with pytest.raises(ValueError, match="135/85"):
        threshold("140/90")


def test_sessions_follow_the_residents_local_clock() -> None:
    s = series(
        [
            (0, "04:00", 1, 1),
            (0, "11:59", 2, 2),
            (0, "12:00", 3, 3),
            (0, "18:00", 4, 4),
            (0, "23:59", 5, 5),
            (1, "00:30", 6, 6),
        ]
    )
    assert s.session.tolist() == [MORNING, MORNING, OTHER, EVENING, EVENING, OTHER]
    assert s.day.tolist() == [dn(0)] * 5 + [dn(1)]


def test_a_summer_time_zone_keeps_local_hours_right_across_the_change() -> None:
    # New York moves its clocks on 2026-03-08 (day 6 here); 07:00 local stays a morning reading.
    s = series([(d, "07:00", 120, 80) for d in range(4, 9)], tz_name="America/New_York")
    assert s.session.tolist() == [MORNING] * 5
    assert s.hour.tolist() == pytest.approx([7.0] * 5)


def test_a_residents_target_falls_back_to_the_threshold() -> None:
    assert target_of({"systolic": 130, "diastolic": 80}, (135, 85)) == (130.0, 80.0)
    assert target_of({}, (135, 85)) == (135.0, 85.0)
    assert target_of(None, (135, 85)) == (135.0, 85.0)
