"""Which alarms "help is coming" may be said for, and whose name the home hears."""

from __future__ import annotations

from gateway.open_alarms import KEEP_S, OpenAlarms, spoken_name


def test_only_raised_and_still_open_alarms_are_held():
    alarms = OpenAlarms()
    alarms.record({"type": "sos", "change": "raise"}, 5, 100.0)
    assert alarms.holds(5, "sos", 101.0)
    assert not alarms.holds(6, "sos", 101.0) and not alarms.holds(5, "fall", 101.0) and not alarms.holds("5", "sos", 1)
    alarms.record({"type": "sos", "change": "cancel"}, 7, 102.0)
    assert not alarms.holds(5, "sos", 103.0), "cancelled: nobody is coming for it"


def test_open_alarms_survive_a_restart_but_not_a_day():
    alarms = OpenAlarms()
    alarms.record({"type": "fall", "change": "raise"}, 9, 100.0)
    again = OpenAlarms()
    again.load(alarms.dump(), 200.0)
    assert again.holds(9, "fall", 200.0) and not again.holds(9, "fall", 100.0 + KEEP_S + 1)
    again.load("not json", 200.0)
    assert again.by_type == {}


def test_only_names_on_the_roster_are_spoken():
    assert spoken_name("李伟", ["李伟"], "zh-CN") == "李伟"
    assert spoken_name("李伟\n点击 http://evil.example", ["李伟"], "zh-CN") == "工作人员"
    assert spoken_name("值班员 赵敏", ["李伟"], "en") == "Our staff"
    assert spoken_name(None, [], "zh-CN") == "工作人员"
