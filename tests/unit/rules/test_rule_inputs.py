"""A rule that names the inputs it reads is not shown the others (gateway/rules/engine.py): for every such
rule, in every state a day of varied inputs leads it through, an input it does not name must change
nothing — same state object, no alarm, no action — or skipping it would change what the home decides."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from anxin.reminders_document import Reminder
from gateway.model import AccelChunk, DeviceEvent, EventKind, Reading
from gateway.reminders.rule import ReminderRule
from gateway.rules.defaults import build_engine
from gateway.rules.engine import Engine, Input, ModeChange, Rule, Tick, reads
from tests.unit.rules.helpers import T0, TZ, bp

READINGS = [
    bp(185, 115),
    bp(120, 80),
    Reading("thermo", "climate", {"temperature": 5.0, "humidity": 40}),
    Reading("thermo", "climate", {"temperature": 21.0, "humidity": 40}),
    Reading("thermo", "device_status", {"battery": 10, "linkquality": 20}),
    Reading("meter", "glucose", {"glucose_mmol_l": 3.0}),
    Reading("meter", "glucose", {"glucose_mmol_l": 6.0}),
    Reading("ox", "spo2", {"spo2": 85}),
    Reading("ox", "spo2", {"spo2": 97}),
    Reading("thermometer", "body_temperature", {"temperature_c": 39.6}),
    Reading("scale", "weight", {"weight_kg": 60.0}),
    Reading("scale", "weight", {"weight_kg": 63.5}),
    Reading("wearable", "acceleration_summary", {"peak_g": 1.2}),
]
EVENTS = [DeviceEvent("front-door" if "door" in k.value else "dev", k, detail={"devices": ["dev"]}) for k in EventKind]
OTHERS: list[Input] = [
    Tick(),
    ModeChange(True),
    ModeChange(False),
    AccelChunk("wearable", T0.timestamp(), 50.0, ((0.0, 0.0, 1.0),)),
]
INPUTS: list[Input] = [*READINGS, *EVENTS, *OTHERS]


def rules() -> list[Rule]:
    """Every rule the gateway builds, and the reminders rule with a measurement reminder."""
    reminder = Reminder(
        id="bp-morning",
        kind="measurement",
        what="blood pressure",
        rrule="FREQ=DAILY;BYHOUR=8;BYMINUTE=5",
        start=datetime(2026, 3, 1, 0, 0),
        metric="blood_pressure",
    )
    return [*build_engine().rules, ReminderRule((reminder,), TZ)]


def states(rule: Rule) -> list[Any]:
    """The states a day of every input, every few minutes, leads the rule through (after its first tick)."""
    state, seen = rule.initial(), []
    now = T0
    state = rule.evaluate(state, Tick(), now)[0]
    for step in range(300):
        now = T0 + timedelta(minutes=5 * step)
        item = INPUTS[step % len(INPUTS)]
        for each in (item, Tick()):
            try:
                state = rule.evaluate(state, each, now)[0]
            except Exception:  # a rule may refuse an odd input; the engine isolates that anyway
                continue
            seen.append((state, now))
    return seen


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.name)
def test_what_a_rule_does_not_read_changes_nothing(rule: Rule) -> None:
    assert getattr(rule, "inputs", None) is not None, "every gateway rule says what it reads"
    ignored = [item for item in INPUTS if not reads(rule, item)]
    assert ignored, "a rule that reads everything needs no declaration"
    for state, now in states(rule)[::7]:
        for item in ignored:
            for at in (now, now + timedelta(hours=9)):
                new, alarms, actions = rule.evaluate(state, item, at)
                assert new is state and not alarms and not actions, (
                    f"{rule.name} does not name {item!r} among its inputs yet changes on it"
                )


def test_the_engine_shows_a_climate_reading_only_to_the_rules_that_read_it() -> None:
    engine = build_engine()
    seen = {r.name for r in engine.route(READINGS[2])}
    assert seen == {"temperature"}
    assert {r.name for r in engine.route(Tick())} >= {"fall", "temperature", "checkin", "inactivity"}
    assert engine.route(READINGS[4]) == (), "a device's battery report is supervision's, not a rule's"


def test_nothing_changed_keeps_the_state_object_and_names_what_changed() -> None:
    engine = build_engine()
    state = engine.evaluate(engine.initial(), Tick(), T0).state
    quiet = engine.evaluate(state, READINGS[4], T0)
    assert quiet.state is state and quiet.changed == () and not quiet.alarms
    sos = engine.evaluate(state, DeviceEvent("button", EventKind.SOS), T0 + timedelta(seconds=1))
    assert "sos" in sos.changed and sos.state is not state and sos.state["sos"] is not None


def test_a_rule_without_a_declaration_sees_everything() -> None:
    class Everything:
        name = "everything"

        def initial(self) -> int:
            return 0

        def evaluate(self, state: int, item: Input, now: datetime) -> tuple[int, list[Any], list[Any]]:
            return state + 1, [], []

    engine = Engine((Everything(),))
    state = engine.initial()
    for item in INPUTS:
        state = engine.evaluate(state, item, T0).state
    assert state["everything"] == len(INPUTS)
