from datetime import timedelta

from anxin.rules_document import InactivityConfig
from gateway.model import AlarmChange, EventKind, Severity
from gateway.rules.engine import ModeChange
from gateway.rules.inactivity import InactivityRule
from tests.unit.rules.helpers import T0, TZ, Run, ev

H = 3600


def rule(**cfg) -> InactivityRule:
    return InactivityRule(InactivityConfig(**cfg), TZ)


def test_default_threshold_by_day_with_prewarning():
    r = Run(rule(default_day_min=240, prewarn_min=5))
    r.at(0, ev(EventKind.MOTION))  # 08:00
    assert r.ticks(60, 235 * 60 - 60, 60) == []
    r.ticks(235 * 60, 235 * 60)
    assert r.said() == ["inactivity_prewarn"]
    [a] = r.ticks(240 * 60, 240 * 60)
    assert (a.type, a.severity, a.detail["learned"]) == ("inactivity", Severity.URGENT, False)
    [c] = r.at(241 * 60, ev(EventKind.DOOR_OPEN))
    assert c.change == AlarmChange.CLEAR


def test_movement_after_prewarning_prevents_the_alarm():
    r = Run(rule(default_day_min=240))
    r.at(0, ev(EventKind.MOTION))
    r.ticks(236 * 60, 236 * 60)
    r.at(237 * 60, ev(EventKind.MOTION))
    assert r.ticks(238 * 60, 400 * 60, 60) == []


def test_night_default_is_longer():
    start = T0.replace(hour=22, minute=30)
    r = Run(rule(default_night_min=720), start=start)
    r.at(0, ev(EventKind.MOTION))
    assert r.ticks(60, 719 * 60, 300) == []
    assert [a.type for a in r.ticks(720 * 60, 720 * 60)] == ["inactivity"]


def test_learned_slot_threshold_after_enough_history():
    r = Run(rule(learn_days=7, margin_ratio=0.25, margin_min=30, min_threshold_min=60))
    # Seven days: active every 20 min from 08:00 to 12:00 with one 80-min quiet spell from 09:40.
    for day in range(8):
        base = day * 24 * H
        for minute in list(range(0, 120, 20)) + list(range(180, 240, 20)):
            r.at(base + minute * 60, ev(EventKind.MOTION))
    state = r.state
    start = (T0 + timedelta(days=8)).timestamp()
    limit, learned = r.rule.threshold_min(state, start, start)
    assert learned and limit == 80 * 1.25 + 30  # longest normal gap in the slot or its neighbours
    # Day 9: motion at 08:00 then nothing: the alarm comes at the learned limit, not the 4 h default.
    base = 9 * 24 * H
    r.at(base, ev(EventKind.MOTION))
    assert r.ticks(base + 60, base + 129 * 60, 60) == []
    assert [a.detail["learned"] for a in r.ticks(base + 130 * 60, base + 130 * 60)] == [True]


def test_away_mode_suppresses_and_motion_later_ends_it():
    r = Run(rule(default_day_min=60))
    r.at(0, ev(EventKind.MOTION))
    r.at(60, ModeChange(True, "server"))
    r.at(120, ev(EventKind.MOTION))  # leaving the flat: still away
    assert r.ticks(180, 10 * H, 300) == []
    r.at(10 * H, ev(EventKind.MOTION))  # home again, forgot to switch: monitoring resumes
    assert [a.type for a in r.ticks(10 * H + 60, 12 * H, 60)] == ["inactivity"]


def test_state_survives_dump_and_load():
    rl = rule()
    r = Run(rl)
    for t in range(0, 5 * H, 600):
        r.at(t, ev(EventKind.MOTION))
    r.at(5 * H, ModeChange(True))
    import json

    restored = rl.load(json.loads(json.dumps(rl.dump(r.state))))
    assert restored == r.state


def test_a_gap_that_ended_in_an_alarm_is_not_learned():
    r = Run(rule(default_day_min=60))
    r.at(0, ev(EventKind.MOTION))
    r.at(20 * 60, ev(EventKind.MOTION))
    r.ticks(80 * 60, 80 * 60)  # alarm after 60 min of stillness
    r.at(5 * H, ev(EventKind.MOTION))  # a 4 h 40 min gap: not normal, not learned
    learned = [g for days in r.state.history.values() for g in days.values()]
    assert learned == [20.0]


def _learn(r: Run, days: int = 8) -> None:
    """Active every 20 min 08:00-12:00 with one 80-min quiet spell from 09:40, day after day."""
    for day in range(days):
        base = day * 24 * H
        for minute in list(range(0, 120, 20)) + list(range(180, 240, 20)):
            r.at(base + minute * 60, ev(EventKind.MOTION))


def test_a_pushed_slot_size_keeps_what_was_learned_at_the_right_time_of_day():
    r = Run(rule(slot_minutes=60, learn_days=7, margin_ratio=0.25, margin_min=30, min_threshold_min=60))
    _learn(r)
    r.rule = rule(slot_minutes=30, learn_days=7, margin_ratio=0.25, margin_min=30, min_threshold_min=60)
    base = 9 * 24 * H + 100 * 60
    r.at(base, ev(EventKind.MOTION))  # 09:40, when the long quiet spell usually starts; then nothing
    assert r.ticks(base + 60, base + 129 * 60, 60) == []
    [alarm] = r.ticks(base + 130 * 60, base + 130 * 60)
    assert alarm.detail["learned"] and alarm.detail["threshold_min"] == 130
    assert r.state.slot_minutes == 30


def test_away_mode_clears_an_open_alarm_so_it_can_fire_again():
    r = Run(rule(default_day_min=60))
    r.at(0, ev(EventKind.MOTION))
    [_raised] = r.ticks(60 * 60, 60 * 60)
    [cleared] = r.at(2 * H, ModeChange(True, "server"))
    assert cleared.change == AlarmChange.CLEAR
    r.at(24 * H, ModeChange(False, "server"))  # back home; then the resident collapses
    assert [a.change for a in r.ticks(24 * H + 60, 26 * H, 60)] == [AlarmChange.RAISE]


def test_slot_sizes_that_do_not_divide_a_day_are_refused():
    import pytest

    with pytest.raises(ValueError, match="divide a day"):
        InactivityConfig(slot_minutes=50)
