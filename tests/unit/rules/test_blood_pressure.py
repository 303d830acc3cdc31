from anxin.rules_document import BloodPressureConfig
from gateway.model import Severity
from gateway.rules.blood_pressure import BloodPressureRule
from tests.unit.rules.helpers import Run, bp


def run(**cfg) -> Run:
    c = BloodPressureConfig(**cfg)
    return Run(BloodPressureRule(c.limits_for, "R001", c.confirm_window_s))


def kinds(alarms):
    return [(a.type, a.severity) for a in alarms]


def test_normal_reading_is_quiet():
    r = run()
    assert r.at(0, bp(128, 82)) == [] and r.said() == []


def test_very_high_first_reading_only_prompts_a_repeat():
    r = run()
    assert r.at(0, bp(182, 95)) == []
    assert r.said() == ["bp_repeat_high"]


def test_very_high_confirmed_within_ten_minutes_is_urgent():
    r = run()
    r.at(0, bp(185, 100))
    [alarm] = r.at(600, bp(181, 112))
    assert (alarm.type, alarm.severity) == ("bp_high", Severity.URGENT)
    assert alarm.detail["first"] == (185, 100)
    assert r.said() == ["bp_repeat_high", "bp_urgent"]


def test_repeat_after_window_starts_over():
    r = run()
    r.at(0, bp(185, 100))
    assert r.at(601, bp(186, 100)) == []
    assert r.said() == ["bp_repeat_high", "bp_repeat_high"]


def test_unrepeated_very_high_reading_becomes_a_warning():
    r = run()
    r.at(0, bp(190, 100))
    assert r.ticks(1, 600, 10) == []
    [alarm] = r.ticks(601, 601)
    assert (alarm.severity, alarm.detail["unconfirmed"]) == (Severity.WARNING, True)


def test_lower_repeat_is_judged_on_the_mean():
    r = run()
    r.at(0, bp(182, 90))
    [alarm] = r.at(300, bp(150, 88))  # mean 166/89 -> warning
    assert (alarm.type, alarm.severity) == ("bp_high", Severity.WARNING)
    r2 = run()
    r2.at(0, bp(180, 90))
    assert r2.at(300, bp(120, 80)) == []  # mean 150/85: below the warning line


def test_edges_of_the_warning_and_urgent_lines():
    assert kinds(run().at(0, bp(160, 80))) == [("bp_high", Severity.WARNING)]
    assert kinds(run().at(0, bp(159, 99))) == []
    assert kinds(run().at(0, bp(140, 100))) == [("bp_high", Severity.WARNING)]
    assert run().at(0, bp(150, 110)) == []  # diastolic 110 is urgent: prompt first
    assert kinds(run().at(0, bp(89, 60))) == [("bp_low", Severity.WARNING)]
    assert kinds(run().at(0, bp(90, 60))) == []


def test_pulse_limits():
    assert kinds(run().at(0, bp(120, 80, pulse=39))) == [("pulse_abnormal", Severity.WARNING)]
    assert kinds(run().at(0, bp(120, 80, pulse=131))) == [("pulse_abnormal", Severity.WARNING)]
    assert run().at(0, bp(120, 80, pulse=40)) == [] and run().at(0, bp(120, 80, pulse=130)) == []


def test_irregular_pulse_is_a_note_for_the_doctor():
    [note] = run().at(0, bp(125, 80, flags={"irregular_pulse"}))
    assert (note.type, note.severity) == ("irregular_pulse", Severity.INFO)


def test_disturbed_measurement_only_prompts_a_repeat():
    for flag in ("body_movement", "cuff_too_loose", "improper_position"):
        r = run()
        assert r.at(0, bp(200, 120, flags={flag})) == []
        assert r.said() == ["bp_repeat_quality"]


def test_resident_targets_override_the_defaults():
    r = run(residents={"R001": {"warning_systolic": 150, "warning_diastolic": 95}})
    assert kinds(r.at(0, bp(152, 80))) == [("bp_high", Severity.WARNING)]
    other = run(residents={"R002": {"warning_systolic": 150}})
    assert other.at(0, bp(152, 80)) == []


def test_disturbed_flags_are_ones_the_devices_actually_report():
    from gateway.devices.bp import QUALITY_FLAGS
    from gateway.rules.blood_pressure import DISTURBED_FLAGS

    assert DISTURBED_FLAGS <= QUALITY_FLAGS
