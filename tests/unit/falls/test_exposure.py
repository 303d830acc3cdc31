"""False alarms weighted by how often an older person does each activity, beside the raw figure."""

from __future__ import annotations

import math

import pytest

from falls_eval.evaluate import Trial, summarize
from falls_eval.exposure import OLDER_ADULT_DAY, WAKING_HOURS, alarms_per_day, weighted_false_alarms_per_hour
from gateway.falls.detector import Candidate

ALARM = Candidate(1.0, 4.5, 2.6, 0.6, 0.4, 0.05, 109.0, True)


def trials(code: str, n: int, alarmed: int, seconds: float) -> list[Trial]:
    return [Trial(f"sub7/{code}/{i}", 7, code, False, seconds, (ALARM,) if i < alarmed else ()) for i in range(n)]


def test_one_car_entry_in_thirty_counts_as_often_as_older_people_get_into_a_car():
    day = trials("CSI", 30, 1, 6.0) + trials("SCH", 30, 0, 6.0) + trials("WAL", 5, 0, 300.0)
    raw = summarize(day).false_alarms_per_hour
    assert raw == pytest.approx(1 / ((60 * 6 + 5 * 300) / 3600))  # about 1.9 per hour of MobiFall's activities
    per_day = OLDER_ADULT_DAY["CSI"].per_day / 30
    assert alarms_per_day(day) == {"CSI": pytest.approx(per_day), "SCH": 0.0, "WAL": 0.0}
    assert weighted_false_alarms_per_hour(day) == pytest.approx(per_day / WAKING_HOURS)
    assert weighted_false_alarms_per_hour(day) < raw / 100


def test_an_alarm_while_walking_counts_per_hour_walked():
    day = trials("WAL", 2, 1, 1800.0)  # one alarm in an hour of walking
    assert alarms_per_day(day)["WAL"] == pytest.approx(OLDER_ADULT_DAY["WAL"].hours)


def test_every_activity_of_the_data_set_has_a_stated_weight():
    for code in ("SCH", "CSI", "CSO", "STU", "STN", "WAL", "STD", "JOG", "JUM"):
        e = OLDER_ADULT_DAY[code]
        assert e.source and math.isfinite(e.per_day + e.hours)


def test_the_spoken_prompt_can_cancel_false_alarms_at_home_but_not_at_the_car():
    from falls_eval.exposure import prompt_can_cancel

    day = trials("CSI", 30, 2, 6.0) + trials("SCH", 30, 1, 6.0)
    assert prompt_can_cancel(day) == (1, 3)
