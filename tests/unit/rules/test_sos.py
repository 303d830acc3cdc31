from gateway.model import AlarmChange, EventKind, Severity
from gateway.rules.sos import SosRule
from tests.unit.rules.helpers import Run, ev


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
