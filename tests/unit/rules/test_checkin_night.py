from datetime import timedelta

from anxin.rules_document import CheckinConfig, NightConfig
from gateway.model import AlarmChange, EventKind, Severity
from gateway.rules.checkin import CheckinRule
from gateway.rules.engine import ModeChange
from gateway.rules.night import NightRule
from tests.unit.rules.helpers import T0, TZ, Run, ev

H = 3600
MIDNIGHT = T0.replace(hour=0)


def checkin(**cfg) -> Run:
    return Run(CheckinRule(CheckinConfig(**cfg), TZ), start=MIDNIGHT)


def test_missed_checkin_alerts_once_at_the_deadline_and_clears_on_late_press():
    r = checkin(deadline="10:00")
    r.at(0, ev(EventKind.MOTION))  # 00:00 bathroom trip: before the window, does not count
    assert r.ticks(6 * H, 10 * H - 60, 60) == []
    [a] = r.ticks(10 * H, 10 * H)
    assert (a.type, a.severity) == ("checkin_missed", Severity.WARNING)
    assert r.ticks(10 * H + 60, 12 * H, 60) == []
    [c] = r.at(12 * H, ev(EventKind.CHECKIN, "btn"))
    assert c.change == AlarmChange.CLEAR


def test_press_or_activity_in_the_window_counts():
    r = checkin()
    r.ticks(0, 0)
    r.at(8 * H, ev(EventKind.CHECKIN))
    assert r.ticks(9 * H, 11 * H, 60) == [] and r.said() == ["checkin_thanks"]
    r2 = checkin()
    r2.ticks(0, 0)
    r2.at(7 * H, ev(EventKind.MOTION))
    assert r2.ticks(9 * H, 11 * H, 60) == []
    r3 = checkin(count_activity=False)
    r3.ticks(0, 0)
    r3.at(7 * H, ev(EventKind.MOTION))
    assert [a.type for a in r3.ticks(9 * H, 11 * H, 60)] == ["checkin_missed"]


def test_away_suppresses_and_next_day_is_new():
    r = checkin()
    r.ticks(0, 0)
    r.at(60, ModeChange(True))
    assert r.ticks(9 * H, 11 * H, 60) == []
    r.at(20 * H, ModeChange(False))
    assert [a.type for a in r.ticks(34 * H, 34 * H)] == ["checkin_missed"]


def test_a_resident_who_came_home_and_forgot_away_mode_is_watched_again():
    r = checkin(count_activity=False)
    r.ticks(0, 0)
    r.at(12 * H, ModeChange(True, "server"))
    r.at(12 * H + 60, ev(EventKind.MOTION))  # leaving the flat: still away
    r.at(2 * 24 * H + 18 * H, ev(EventKind.MOTION))  # home again two days later, away left on
    assert [a.type for a in r.ticks(3 * 24 * H + 10 * H, 3 * 24 * H + 10 * H)] == ["checkin_missed"]
    # the same with an old saved state that did not know when away was set
    old = CheckinRule(CheckinConfig(), TZ).dump(r.state) | {"away": True, "away_since": None}
    del old["away_since"]
    restored = CheckinRule(CheckinConfig(), TZ).load(old)
    state, _a, _b = r.rule.evaluate(restored, ev(EventKind.MOTION), MIDNIGHT + timedelta(days=4, hours=1))
    assert state.away is False


def test_started_after_deadline_waits_for_tomorrow():
    r = checkin()
    assert r.ticks(15 * H, 16 * H, 60) == []


def night(**cfg) -> Run:
    return Run(NightRule(NightConfig(**cfg), TZ), start=T0.replace(hour=23))


def test_door_at_night_without_return_alerts_then_clears_on_return():
    r = night(return_min=15)
    r.at(0, ev(EventKind.DOOR_OPEN, "front"))
    r.at(5, ev(EventKind.MOTION, "hall"))  # walking out
    r.at(20, ev(EventKind.DOOR_CLOSED, "front"))
    assert r.ticks(21, 15 * 60 - 1, 10) == []
    [a] = r.ticks(15 * 60, 15 * 60)
    assert (a.type, a.severity, a.device) == ("night_wandering", Severity.URGENT, "front")
    [c] = r.at(40 * 60, ev(EventKind.DOOR_OPEN, "front"))
    assert c.change == AlarmChange.CLEAR


def test_quick_return_and_never_left_are_quiet():
    r = night()
    r.at(0, ev(EventKind.DOOR_OPEN, "front"))
    r.at(10, ev(EventKind.DOOR_CLOSED, "front"))
    r.at(300, ev(EventKind.DOOR_OPEN, "front"))  # back after 5 min
    assert r.ticks(301, 3600, 30) == []
    r2 = night()
    r2.at(0, ev(EventKind.DOOR_OPEN, "front"))
    r2.at(10, ev(EventKind.DOOR_CLOSED, "front"))
    r2.at(200, ev(EventKind.MOTION, "bedroom"))  # only looked out, still inside
    assert r2.ticks(201, 3600, 30) == []


def test_daytime_door_and_other_doors_are_ignored():
    day = Run(NightRule(NightConfig(), TZ), start=T0.replace(hour=14))
    day.at(0, ev(EventKind.DOOR_OPEN, "front"))
    assert day.ticks(1, 3 * H, 60) == []
    r = night(doors=["front"])
    r.at(0, ev(EventKind.DOOR_OPEN, "fridge"))
    assert r.ticks(1, 3 * H, 60) == []
