from gateway.model import AlarmChange, EventKind, Severity
from gateway.rules.engine import Tick
from gateway.rules.fall import FallRule
from tests.unit.rules.helpers import Run, ev


def rule() -> FallRule:
    return FallRule(cancel_window_s=30, watch_window_s=120, long_lie_s=20 * 60)


def test_fall_prompts_then_raises_emergency_when_not_cancelled():
    run = Run(rule())
    assert run.at(0, ev(EventKind.FALL, "radar")) == []
    assert run.said() == ["fall_prompt"]
    assert run.ticks(1, 29) == [], "no alarm inside the cancel window"
    [alarm] = run.ticks(30, 30)
    assert (alarm.type, alarm.severity, alarm.device) == ("fall", Severity.EMERGENCY, "radar")
    assert alarm.detail["reason"] == "no_cancel"


def test_cancel_inside_window_means_no_alarm():
    run = Run(rule())
    run.at(0, ev(EventKind.FALL, source="detector"))
    run.at(29, ev(EventKind.SOS_CANCEL, "btn"))
    assert run.ticks(30, 3600, 10) == []
    assert run.said() == ["fall_prompt", "fall_cancelled"]


def test_sos_during_window_raises_at_once():
    run = Run(rule())
    run.at(0, ev(EventKind.FALL, "wearable"))
    [alarm] = run.at(5, ev(EventKind.SOS, "btn"))
    assert alarm.severity == Severity.EMERGENCY and alarm.detail["reason"] == "sos_press"
    assert [a for a in run.ticks(6, 60) if a.type == "fall"] == [], "raised once, not again at window end"


def test_maybe_fall_becomes_urgent_alarm_without_movement():
    run = Run(rule())
    run.at(0, ev(EventKind.MAYBE_FALL, "wearable"))
    assert run.ticks(1, 119, 10) == []
    [alarm] = run.ticks(120, 120)
    assert alarm.severity == Severity.URGENT and alarm.detail["reason"] == "no_movement"


def test_low_posture_followed_by_movement_ends_quietly():
    run = Run(rule())
    run.at(0, ev(EventKind.LOW_POSTURE, "radar"))
    run.at(60, ev(EventKind.MOTION, "radar"))
    assert run.ticks(61, 3600, 10) == []


def test_long_lie_raises_severity_of_a_watch_alarm():
    run = Run(rule())
    run.at(0, ev(EventKind.MAYBE_FALL, "wearable"))
    [first] = run.ticks(120, 120)
    assert first.severity == Severity.URGENT
    assert run.ticks(121, 20 * 60 - 1, 10) == []
    [lie] = run.ticks(20 * 60, 20 * 60)
    assert lie.severity == Severity.EMERGENCY and lie.detail["long_lie"] is True


def test_movement_after_fall_means_no_long_lie():
    run = Run(rule())
    run.at(0, ev(EventKind.FALL))
    run.ticks(30, 30)
    run.at(300, ev(EventKind.MOTION))
    assert run.ticks(301, 3 * 3600, 30) == []
    # and the episode is over: a new fall starts a new pre-alarm
    run.at(4 * 3600, ev(EventKind.FALL))
    assert run.said().count("fall_prompt") == 2


def test_cancel_after_the_alarm_is_recorded_not_retracted():
    run = Run(rule())
    run.at(0, ev(EventKind.FALL))
    run.ticks(30, 30)
    [update] = run.at(45, ev(EventKind.SOS_CANCEL, "btn"))
    assert update.change == AlarmChange.UPDATE and update.detail["late_cancel"] is True
    assert run.said()[-1] == "sos_cancel_late"


def test_resident_who_got_up_and_fell_again_gets_a_new_prompt_and_alarm():
    run = Run(rule())
    run.at(0, ev(EventKind.FALL, "radar"))
    run.ticks(30, 30)
    run.at(60, ev(EventKind.MOTION, "pir"))  # got up
    assert run.at(600, ev(EventKind.FALL, "radar")) == []  # fell again, still inside the first long-lie span
    assert run.said().count("fall_prompt") == 2
    [alarm] = run.ticks(601, 630)
    assert (alarm.type, alarm.severity, alarm.detail["reason"]) == ("fall", Severity.EMERGENCY, "no_cancel")
    assert alarm.detail["fell_at"] == run.start.timestamp() + 600


def test_a_second_fall_while_still_down_is_told_to_staff_once_per_window():
    run = Run(rule())
    run.at(0, ev(EventKind.FALL, "radar"))
    run.ticks(30, 30)
    [update] = run.at(100, ev(EventKind.FALL, "wearable", source="detector"))
    assert (update.severity, update.change, update.detail["repeat"]) == (Severity.EMERGENCY, AlarmChange.UPDATE, True)
    assert run.at(110, ev(EventKind.FALL, "radar")) == []  # a radar repeating itself is not news
    # the long lie still counts from the first fall
    [long_lie] = run.ticks(1190, 1200, 10)
    assert long_lie.detail["long_lie"] is True


def test_a_clock_set_back_after_a_restart_does_not_delay_the_fall_emergency():
    run = Run(rule())
    run.at(0, ev(EventKind.FALL, "radar"))
    run.state = rule().load(rule().dump(run.state))  # power cut; the Pi comes back with its clock 40 min behind
    [alarm] = run.at(-40 * 60 + 5, Tick())
    assert (alarm.severity, alarm.detail["reason"]) == (Severity.EMERGENCY, "no_cancel")


def test_a_watch_with_the_clock_set_back_becomes_urgent_at_once():
    run = Run(rule())
    run.at(0, ev(EventKind.LOW_POSTURE, "radar"))
    [alarm] = run.at(-600, Tick())
    assert alarm.severity == Severity.URGENT


def test_a_small_clock_step_back_does_not_cut_the_cancel_window_short():
    run = Run(rule())
    run.at(0, ev(EventKind.FALL, "radar"))
    assert run.at(-2, Tick()) == []
    assert run.ticks(1, 29) == []


def test_a_corrupt_saved_episode_is_refused_at_load_not_on_every_tick():
    import pytest

    from anxin.rules_document import CheckinConfig
    from gateway.rules.checkin import CheckinRule
    from tests.unit.rules.helpers import TZ

    with pytest.raises((ValueError, TypeError)):
        rule().load({"phase": "pre", "since": "yesterday", "device": "radar", "source": "device", "moved": False})
    with pytest.raises((ValueError, TypeError)):
        CheckinRule(CheckinConfig(), TZ).load({"done": None, "alerted": None, "since": "noon", "away": False})
