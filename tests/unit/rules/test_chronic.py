"""Glucose, SpO2, fever and weight-gain rules, with `now` injected: what the resident hears and staff get."""

from __future__ import annotations

from datetime import datetime

import pytest

from anxin.rules_chronic import FeverConfig, GlucoseConfig, Spo2Config, WeightGainConfig
from anxin.rules_document import RulesConfigError, parse_rules
from gateway.items import DeviceMessages
from gateway.model import AlarmChange, Reading, Severity
from gateway.rules.defaults import build_engine
from gateway.rules.engine import Tick
from gateway.rules.fever import FeverRule
from gateway.rules.glucose import GlucoseRule
from gateway.rules.oxygen import OxygenRule
from gateway.rules.weight_gain import WeightGainRule
from tests.unit.rules.helpers import T0, Run

DAY = 86400


def glucose(mmol_l: float, *flags: str) -> Reading:
    return Reading("glucometer", "glucose", {"glucose_mmol_l": mmol_l}, flags=frozenset(flags))


def spo2(value: float, continuous: bool = True) -> Reading:
    return Reading(
        "oximeter", "spo2", {"spo2": value, "pulse": 80}, flags=frozenset({"continuous"} if continuous else set())
    )


def weight(kg: float, ts: datetime | None = None) -> Reading:
    return Reading("scale", "weight", {"weight_kg": kg}, ts)


def kinds(alarms):  # type: ignore[no-untyped-def]
    return [(a.type, a.severity, a.change) for a in alarms]


def glucose_run(**cfg) -> Run:  # type: ignore[no-untyped-def]
    c = GlucoseConfig(**cfg)
    return Run(GlucoseRule(c.limits_for, "R001", c.repeat_window_s))


# --- glucose --------------------------------------------------------------------------------------
def test_in_range_glucose_is_quiet() -> None:
    r = glucose_run()
    assert r.at(0, glucose(3.9)) == [] and r.at(60, glucose(16.6)) == [] and r.said() == []


def test_level_1_hypoglycaemia_warns_at_once_and_asks_for_sugar_and_a_repeat() -> None:
    r = glucose_run()
    [alarm] = r.at(0, glucose(3.8))
    assert (alarm.type, alarm.severity, alarm.detail["level"]) == ("hypoglycaemia", Severity.WARNING, 1)
    assert r.said() == ["glucose_low"]


def test_level_2_hypoglycaemia_is_urgent_at_once_never_held_for_the_repeat() -> None:
    r = glucose_run()
    [alarm] = r.at(0, glucose(2.9))
    assert (alarm.severity, alarm.detail["level"]) == (Severity.URGENT, 2)
    assert r.said() == ["glucose_urgent_low"]


def test_recovery_on_the_repeat_updates_the_alarm_and_tells_the_resident() -> None:
    r = glucose_run()
    r.at(0, glucose(2.8))
    [update] = r.at(14 * 60, glucose(5.2))
    assert kinds([update]) == [("hypoglycaemia", Severity.URGENT, AlarmChange.UPDATE)]
    assert update.detail == {"glucose_mmol_l": 5.2, "first": 2.8, "repeat": "recovered"}
    assert r.said() == ["glucose_urgent_low", "glucose_recovered"]
    assert r.ticks(15 * 60, 40 * 60, 60) == []  # nothing pending any more


def test_still_low_on_the_repeat_raises_a_mild_low_to_urgent() -> None:
    r = glucose_run()
    r.at(0, glucose(3.6))
    [alarm] = r.at(15 * 60, glucose(3.7))
    assert (alarm.severity, alarm.detail["repeat"], alarm.detail["first"]) == (Severity.URGENT, "still_low", 3.6)


def test_no_repeat_within_the_window_is_urgent_and_the_home_asks_again() -> None:
    r = glucose_run(repeat_window_s=900)
    r.at(0, glucose(3.5))
    assert r.ticks(1, 900, 30) == []
    [alarm] = r.ticks(901, 960, 30)
    assert (alarm.severity, alarm.detail["repeat"]) == (Severity.URGENT, "missing")
    assert r.said() == ["glucose_low", "glucose_repeat_missing"]
    assert r.ticks(961, 3000, 60) == []


def test_a_reading_after_the_window_starts_over() -> None:
    r = glucose_run()
    r.state = r.rule.initial()
    r.at(0, glucose(3.5))
    r.state = r.rule.load(r.rule.dump(r.state))  # a restart in between keeps the pending low
    [alarm] = r.at(901, glucose(3.6))
    assert alarm.severity == Severity.WARNING and "repeat" not in alarm.detail


@pytest.mark.parametrize(
    ("value", "flags", "severity"),
    [
        (16.7, (), Severity.WARNING),
        (25.0, (), Severity.WARNING),
        (33.3, (), Severity.URGENT),
        (27.8, ("result_above_range",), Severity.URGENT),
    ],
)
def test_marked_hyperglycaemia(value: float, flags: tuple[str, ...], severity: Severity) -> None:
    [alarm] = glucose_run().at(0, glucose(value, *flags))
    assert (alarm.type, alarm.severity) == ("hyperglycaemia", severity)


def test_a_residents_own_glucose_limits_apply() -> None:
    r = glucose_run(residents={"R001": {"low": 4.4}})  # e.g. an older resident with hypoglycaemia unawareness
    [alarm] = r.at(0, glucose(4.2))
    assert alarm.detail["limit"] == 4.4


# --- SpO2 -----------------------------------------------------------------------------------------
def spo2_run(**cfg) -> Run:  # type: ignore[no-untyped-def]
    return Run(OxygenRule(Spo2Config(**cfg).limits_for, "R001"))


def test_spo2_below_90_for_five_minutes_raises_once_and_clears_on_recovery() -> None:
    r = spo2_run()
    alarms = [a for t in range(0, 300, 10) for a in r.at(t, spo2(88))]
    assert alarms == []
    [alarm] = r.at(300, spo2(87))
    assert (alarm.type, alarm.severity, alarm.detail["lowest"]) == ("low_spo2", Severity.WARNING, 87.0)
    assert r.at(310, spo2(86)) == []  # one alarm per episode
    [clear] = r.at(320, spo2(93))
    assert clear.change == AlarmChange.CLEAR


def test_a_brief_dip_is_not_sustained() -> None:
    r = spo2_run()
    for t in range(0, 240, 10):
        assert r.at(t, spo2(85)) == []
    assert r.at(250, spo2(95)) == [] and r.at(400, spo2(85)) == [] and r.at(600, spo2(85)) == []


def test_sustained_below_85_is_urgent() -> None:
    r = spo2_run()
    r.at(0, spo2(84))
    [alarm] = r.at(300, spo2(86))
    assert alarm.severity == Severity.URGENT


def test_a_copd_resident_uses_their_own_target() -> None:
    r = spo2_run(residents={"R001": {"low": 88}})
    assert r.at(0, spo2(89)) == [] and r.at(600, spo2(89)) == []  # within 88-92 %: their target range
    r.at(700, spo2(87))
    [alarm] = r.at(1000, spo2(87))
    assert alarm.detail["limit"] == 88


def test_a_low_spot_check_asks_for_a_rest_and_a_repeat() -> None:
    r = spo2_run()
    assert r.at(0, spo2(88, continuous=False)) == []
    assert r.said() == ["spo2_repeat"]
    [alarm] = r.at(600, spo2(87, continuous=False))  # still low ten minutes later: sustained
    assert alarm.type == "low_spo2"


# --- fever ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("c", "expected"),
    [
        (37.2, []),
        (37.3, [("fever", Severity.WARNING)]),
        (39.1, [("fever", Severity.URGENT)]),
        (34.9, [("hypothermia", Severity.URGENT)]),
    ],
)
def test_fever_and_hypothermia(c: float, expected: list) -> None:  # type: ignore[type-arg]
    r = Run(FeverRule(FeverConfig().limits_for, "R001"))
    alarms = r.at(0, Reading("thermometer", "body_temperature", {"temperature_c": c}))
    assert [(a.type, a.severity) for a in alarms] == expected


# --- weight gain ----------------------------------------------------------------------------------
def weight_run(**own) -> Run:  # type: ignore[no-untyped-def]
    c = WeightGainConfig(residents={"R001": {"watch": True, **own}})
    return Run(WeightGainRule(c.limits_for, "R001"))


def test_more_than_2_kg_in_3_days_warns_a_heart_failure_resident() -> None:
    r = weight_run()
    assert r.at(0, weight(70.0)) == [] and r.at(DAY, weight(70.8)) == [] and r.at(2 * DAY, weight(71.6)) == []
    [alarm] = r.at(3 * DAY, weight(72.1))
    assert (alarm.type, alarm.severity) == ("weight_gain", Severity.WARNING)
    assert (alarm.detail["gain_kg"], alarm.detail["days"]) == (2.1, 3.0)
    assert r.said() == ["weight_gain"]


def test_exactly_2_kg_or_a_slow_gain_is_quiet() -> None:
    r = weight_run()
    assert r.at(0, weight(70.0)) == [] and r.at(3 * DAY, weight(72.0)) == []
    assert r.at(6 * DAY + 1, weight(73.9)) == []  # 70.0 is more than 3 days back now; 72.0 -> 73.9 is 1.9 kg


def test_the_window_and_gain_are_settings() -> None:
    r = weight_run(gain_kg=1.0, days=1)
    r.at(0, weight(70.0))
    [alarm] = r.at(DAY, weight(71.2))
    assert alarm.detail["limit_kg"] == 1.0


def test_residents_without_heart_failure_are_not_watched_but_history_is_kept() -> None:
    r = Run(WeightGainRule(WeightGainConfig().limits_for, "R001"))
    assert r.at(0, weight(70.0)) == [] and r.at(DAY, weight(75.0)) == []
    assert len(r.state) == 2


def test_weight_history_survives_a_restart_and_a_late_old_weighing_keeps_the_newer() -> None:
    r = weight_run()
    r.at(0, weight(70.0))
    r.state = r.rule.load(r.rule.dump(r.state))
    r.at(2 * DAY, weight(70.5))
    r.at(2 * DAY + 60, weight(69.0, T0))  # the scale's memory, measured at T0, sent late
    assert [w for _, w in r.state] == [69.0, 70.0, 70.5]  # by time of measurement
    [alarm] = r.at(3 * DAY, weight(72.1))
    assert alarm.detail["from_kg"] == 69.0


# --- the document ---------------------------------------------------------------------------------
def test_per_resident_thresholds_are_part_of_the_pushed_rules_document() -> None:
    cfg = parse_rules(
        {
            "glucose": {"residents": {"R001": {"low": 4.4}}},
            "spo2": {"residents": {"R002": {"low": 88}}},
            "weight_gain": {"residents": {"R002": {"watch": True, "gain_kg": 2, "days": 3}}},
        }
    )
    assert cfg.glucose.limits_for("R001").low == 4.4 and cfg.glucose.limits_for("R002").low == 3.9
    assert cfg.spo2.limits_for("R002").low == 88 and cfg.weight_gain.limits_for("R002").watch
    with pytest.raises(RulesConfigError, match="urgent_low <= low"):
        parse_rules({"glucose": {"residents": {"R001": {"low": 2.5}}}})
    with pytest.raises(RulesConfigError, match="glucose"):
        parse_rules({"glucose": {"limits": {"lowest": 1}}})


def test_the_default_engine_runs_the_chronic_rules() -> None:
    engine = build_engine(resident="R001")
    assert {"glucose", "spo2", "fever", "weight_gain"} <= {r.name for r in engine.rules}
    decision = engine.evaluate(engine.initial(), glucose(2.7), T0)
    assert [(a.type, a.severity) for a in decision.alarms] == [("hypoglycaemia", Severity.URGENT)]
    assert engine.evaluate(decision.state, Tick(), T0).alarms == ()
    assert {"glucose", "weight_gain"} <= set(engine.persistent())


def test_a_pushed_per_resident_threshold_changes_what_the_gateway_raises(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gateway.model import Reading as R
    from tests.unit.gateway.worker import START, Clock, events, make_gateway, push

    clock = Clock(START)
    gw, said = make_gateway(tmp_path, clock)
    gw.process(DeviceMessages([R("glucometer", "glucose", {"glucose_mmol_l": 4.2})]))
    assert not [e for e in events(gw, "alarm") if e.get("type") == "hypoglycaemia"]
    push(gw, 2, {"glucose": {"residents": {"R001": {"low": 4.4}}}})  # e.g. an older resident's earlier warning
    clock.now += 60
    gw.process(DeviceMessages([R("glucometer", "glucose", {"glucose_mmol_l": 4.2})]))
    [alarm] = [e for e in events(gw, "alarm") if e.get("type") == "hypoglycaemia"]
    assert alarm["severity"] == "warning" and alarm["detail"]["limit"] == 4.4
    assert any(a.get("key") == "glucose_low" for a in said)
    push(gw, 3, {"glucose": {"residents": {"R001": {"low": 2.0}}}})  # invalid: below urgent_low
    assert events(gw, "event")[-1]["kind"] == "config_rejected" and gw.rules.version == 2
    gw.outbox.close()


def test_a_meters_memory_uploaded_late_is_history_not_an_alarm() -> None:
    from datetime import timedelta

    old = T0 - timedelta(days=3)
    r = glucose_run()
    assert r.at(0, Reading("glucometer", "glucose", {"glucose_mmol_l": 2.5}, old)) == [] and r.said() == []
    assert r.ticks(0, 2000, 100) == []
    [alarm] = r.at(2100, Reading("glucometer", "glucose", {"glucose_mmol_l": 2.5}, T0 + timedelta(seconds=2050)))
    assert alarm.severity == Severity.URGENT  # measured minutes ago: the resident's state now
    f = Run(FeverRule(FeverConfig().limits_for, "R001"))
    assert f.at(0, Reading("thermometer", "body_temperature", {"temperature_c": 39.5}, old)) == []
    s = spo2_run()
    assert s.at(0, Reading("oximeter", "spo2", {"spo2": 80}, old)) == [] and s.state is None
    w = weight_run()
    w.at(0, weight(70.0, old - timedelta(days=1)))
    assert w.at(1, weight(73.0, old)) == [] and len(w.state) == 2  # kept for the next comparison
