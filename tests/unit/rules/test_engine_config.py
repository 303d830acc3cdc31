from datetime import timedelta

import pytest

from anxin.rules_document import RulesConfigError, parse_rules
from gateway.model import Alarm, AlarmChange, EventKind, Severity
from gateway.rules.damping import StormDamper
from gateway.rules.defaults import build_engine
from tests.unit.rules.helpers import T0, ev


def feed(damper, alarms_at):
    state, sent = damper.initial(), []
    for seconds, alarm in alarms_at:
        state, out = damper.filter(state, [alarm], T0 + timedelta(seconds=seconds))
        sent += [(seconds, a) for a in out]
    return sent


def test_repeats_become_updates_and_fast_ones_are_merged_and_counted():
    warn = Alarm("bp_high", Severity.WARNING, "high")
    sent = feed(StormDamper(60, 3600), [(0, warn), (10, warn), (20, warn), (70, warn)])
    assert [(t, a.change) for t, a in sent] == [(0, AlarmChange.RAISE), (70, AlarmChange.UPDATE)]
    assert sent[1][1].detail["merged_repeats"] == 2


def test_emergencies_severity_rises_and_clears_are_never_held_back():
    sos = Alarm("sos", Severity.EMERGENCY, "sos")
    assert len(feed(StormDamper(60), [(t, sos) for t in range(10)])) == 10
    warn, urgent = Alarm("fall", Severity.URGENT, "w"), Alarm("fall", Severity.EMERGENCY, "e")
    assert [a.severity for _t, a in feed(StormDamper(60), [(0, warn), (1, urgent)])] == [
        Severity.URGENT,
        Severity.EMERGENCY,
    ]
    clear = Alarm("device_offline", Severity.TECHNICAL, "ok", change=AlarmChange.CLEAR)
    raised = Alarm("device_offline", Severity.TECHNICAL, "off")
    sent = feed(StormDamper(60), [(0, raised), (1, clear), (2, raised)])
    assert [a.change for _t, a in sent] == [AlarmChange.RAISE, AlarmChange.CLEAR, AlarmChange.RAISE]


def test_engine_damps_a_storm_of_battery_events_but_not_sos():
    engine = build_engine({})
    state, sent = engine.initial(), []
    for i in range(50):
        kind = EventKind.BATTERY_LOW if i % 2 == 0 else EventKind.BATTERY_OK
        d = engine.evaluate(state, ev(kind, "btn"), T0 + timedelta(seconds=i))
        state, sent = d.state, sent + list(d.alarms)
    assert len(sent) == 50, "clears pass, so each raise after a clear is a fresh raise"
    d = engine.evaluate(state, ev(EventKind.SOS, "btn"), T0)
    d2 = engine.evaluate(d.state, ev(EventKind.SOS, "btn"), T0 + timedelta(seconds=1))
    assert [a.change for a in d.alarms + d2.alarms] == [AlarmChange.RAISE, AlarmChange.UPDATE]


def test_defaults_come_from_the_guidelines():
    cfg = parse_rules({})
    lim = cfg.blood_pressure.limits
    assert (lim.urgent_systolic, lim.urgent_diastolic) == (180, 110)
    assert (lim.warning_systolic, lim.warning_diastolic) == (160, 100)
    assert (lim.low_systolic, lim.pulse_low, lim.pulse_high) == (90, 40, 130)
    assert cfg.fall.cancel_window_s == 30 and cfg.blood_pressure.confirm_window_s == 600
    assert (cfg.temperature.low_c, cfg.temperature.high_c, cfg.temperature.sustain_min) == (10, 32, 30)


@pytest.mark.parametrize(
    "doc, words",
    [
        ({"fall": {"cancel_window_s": "soon"}}, "fall.cancel_window_s"),
        ({"blood_pressure": {"limits": {"warning_systolic": 190}}}, "warning_systolic <= urgent_systolic"),
        ({"blood_pressure": {"residents": {"R001": {"pulse_low": 140}}}}, "pulse_low < pulse_high"),
        ({"temperature": {"low_c": 30, "high_c": 20}}, "low_c must be below high_c"),
        ({"checkin": {"start": "11:00", "deadline": "10:00"}}, "start must be before deadline"),
        ({"sirens": {}}, "sirens"),
        ({"sos": {"enabled": False}}, "SOS rule cannot be disabled"),
        (["not", "a", "mapping"], "mapping"),
    ],
)
def test_invalid_documents_are_refused_with_the_reason(doc, words):
    with pytest.raises(RulesConfigError, match=words.replace("(", r"\(")):
        parse_rules(doc)


def test_disabled_rules_are_left_out_and_learned_state_is_adopted():
    engine = build_engine({"night": {"enabled": False}, "temperature": {"enabled": False}})
    assert "night" not in [r.name for r in engine.rules]
    old = build_engine({})
    state = old.evaluate(old.initial(), ev(EventKind.MOTION), T0).state
    adopted = engine.adopt(state)
    assert adopted["inactivity"] is state["inactivity"] and "night" not in adopted


def test_a_second_device_in_trouble_is_never_merged_away():
    engine = build_engine({})
    state, sent = engine.initial(), []
    for seconds, item in [
        (0, ev(EventKind.DEVICE_OFFLINE, "pir", devices=["pir"])),
        (5, ev(EventKind.DEVICE_OFFLINE, "btn", devices=["btn", "pir"])),
        (20, ev(EventKind.TAMPER, "door")),
        (30, ev(EventKind.TAMPER, "btn")),
    ]:
        d = engine.evaluate(state, item, T0 + timedelta(seconds=seconds))
        state, sent = d.state, sent + list(d.alarms)
    assert [(a.type, a.change, a.detail["devices"]) for a in sent] == [
        ("device_offline", AlarmChange.RAISE, ["pir"]),
        ("device_offline", AlarmChange.UPDATE, ["btn", "pir"]),
        ("tamper", AlarmChange.RAISE, ["door"]),
        ("tamper", AlarmChange.UPDATE, ["btn"]),
    ]
