"""SOS rule: a press is an emergency at once; a cancel retracts it and is itself recorded."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.model import AlarmChange, DeviceEvent, EventKind, Severity
from gateway.rules.engine import Engine, Tick
from gateway.rules.sos import SosRule

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def test_press_raises_emergency_and_tells_the_resident():
    engine = Engine((SosRule(),))
    d = engine.evaluate(engine.initial(), DeviceEvent("btn", EventKind.SOS), NOW)
    assert [(a.type, a.severity, a.change) for a in d.alarms] == [("sos", Severity.EMERGENCY, AlarmChange.RAISE)]
    assert {(a.kind, a.message_key) for a in d.actions} == {("say", "sos_raised"), ("led", "alarm_sent")}


def test_cancel_after_press_retracts_and_cancel_alone_does_nothing():
    engine = Engine((SosRule(),))
    lone = engine.evaluate(engine.initial(), DeviceEvent("btn", EventKind.SOS_CANCEL), NOW)
    assert lone.alarms == ()
    pressed = engine.evaluate(engine.initial(), DeviceEvent("btn", EventKind.SOS), NOW)
    cancelled = engine.evaluate(pressed.state, DeviceEvent("btn", EventKind.SOS_CANCEL), NOW)
    assert [a.change for a in cancelled.alarms] == [AlarmChange.CANCEL]


def test_ticks_and_other_events_raise_nothing():
    engine = Engine((SosRule(),))
    state = engine.initial()
    for item in (Tick(), DeviceEvent("pir", EventKind.MOTION)):
        d = engine.evaluate(state, item, NOW)
        assert d.alarms == () and d.actions == ()
