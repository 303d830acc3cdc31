from datetime import timedelta

from gateway.model import AlarmChange, EventKind, Severity
from gateway.rules.defaults import build_engine
from gateway.rules.sos import SosRule
from tests.unit.rules.helpers import T0, Run, ev


def test_press_raises_emergency_at_once_and_tells_the_resident():
    run = Run(SosRule())
    [alarm] = run.at(0, ev(EventKind.SOS, "btn"))
    assert (alarm.type, alarm.severity, alarm.device) == ("sos", Severity.EMERGENCY, "btn")
    assert alarm.change == AlarmChange.RAISE
    assert run.said() == ["sos_raised"]


def test_cancel_inside_window_retracts_as_a_recorded_cancel():
    run = Run(SosRule(cancel_window_s=60))
    run.at(0, ev(EventKind.SOS))
    [alarm] = run.at(60, ev(EventKind.SOS_CANCEL))
    assert alarm.change == AlarmChange.CANCEL  # sent to the server, which keeps the record
    assert run.said() == ["sos_raised", "sos_cancelled"]


def test_cancel_after_window_keeps_the_alarm_open():
    run = Run(SosRule(cancel_window_s=60))
    run.at(0, ev(EventKind.SOS))
    [alarm] = run.at(61, ev(EventKind.SOS_CANCEL))
    assert alarm.change == AlarmChange.UPDATE and alarm.detail["late_cancel"] is True
    assert run.said()[-1] == "sos_cancel_late"


def test_cancel_without_sos_does_nothing():
    run = Run(SosRule())
    assert run.at(0, ev(EventKind.SOS_CANCEL)) == []


def test_a_handled_sos_does_not_turn_a_later_fall_cancel_into_an_emergency():
    engine = build_engine({})
    state, sent = engine.initial(), []
    for seconds, item in [
        (0, ev(EventKind.SOS, "btn")),
        (2 * 86400, ev(EventKind.FALL, "radar")),
        (2 * 86400 + 10, ev(EventKind.SOS_CANCEL, "btn")),
    ]:
        d = engine.evaluate(state, item, T0 + timedelta(seconds=seconds))
        state, sent = d.state, sent + [(seconds, a) for a in d.alarms]
    assert [(t, a.type, a.change) for t, a in sent] == [(0, "sos", AlarmChange.RAISE)]
    assert state["sos"] is None


def test_a_cancel_within_the_hour_after_the_window_is_still_recorded_as_late():
    run = Run(SosRule())
    run.at(0, ev(EventKind.SOS, "btn"))
    [late] = run.at(3000, ev(EventKind.SOS_CANCEL, "btn"))
    assert late.detail["late_cancel"] is True
