"""A simulated week of one resident's routine, with an injected clock: exactly these alarms, at these times."""

from firmware_sim.routine import run_week
from gateway.rules.defaults import build_engine


def test_a_week_raises_exactly_the_expected_alarms():
    result = run_week(build_engine({}, "Asia/Shanghai", "R001"), tick_s=10)
    got = [(when.strftime("%a %H:%M:%S"), type_, change, severity) for when, type_, change, severity in result.alarms]
    assert got == [
        ("Tue 07:36:00", "bp_high", "raise", "urgent"),  # 186/104 repeated as 184/108 six minutes later
        ("Wed 10:00:00", "checkin_missed", "raise", "warning"),  # slept in: nothing between 05:00 and 10:00
        ("Wed 10:30:00", "checkin_missed", "clear", "warning"),  # up at 10:30
        ("Fri 16:00:30", "fall", "raise", "emergency"),  # fall at 16:00, not cancelled within 30 s
        ("Sat 02:15:00", "night_wandering", "raise", "urgent"),  # out at 02:00, not back within 15 min
        ("Sat 02:40:00", "night_wandering", "clear", "urgent"),
        ("Sat 16:47:00", "inactivity", "raise", "urgent"),  # last motion 12:47 + 4 h daytime default
        ("Sat 17:30:00", "inactivity", "clear", "urgent"),
        ("Sun 09:00:00", "battery_low", "raise", "technical"),
        ("Sun 12:30:00", "indoor_temperature", "raise", "warning"),  # 9 °C since 12:00
        ("Sun 13:30:00", "indoor_temperature", "clear", "warning"),
    ]
    said = [(when.strftime("%a %H:%M:%S"), key) for when, key in result.said if key != "checkin_thanks"]
    assert said == [
        ("Tue 07:30:00", "bp_repeat_high"),
        ("Tue 07:36:00", "bp_urgent"),
        ("Wed 09:00:00", "checkin_ask"),  # slept in: an hour before the deadline the home asks aloud
        ("Thu 15:00:00", "fall_prompt"),
        ("Thu 15:00:12", "fall_cancelled"),  # cancelled fall: no alarm
        ("Fri 16:00:00", "fall_prompt"),
        ("Fri 16:00:30", "fall_alarm"),
        ("Sat 16:42:00", "inactivity_prewarn"),
    ]
    thanks = [when.strftime("%a") for when, key in result.said if key == "checkin_thanks"]
    assert thanks == ["Mon", "Tue", "Thu", "Fri", "Sat", "Sun"]


def test_restarting_every_few_hours_changes_nothing():
    """Every rule's state goes through JSON and back (as across a gateway restart) without changing a decision."""
    import json

    from firmware_sim.routine import timeline, week

    reference = run_week(build_engine({}, "Asia/Shanghai", "R001"), tick_s=60)
    engine = build_engine({}, "Asia/Shanghai", "R001")
    state, alarms = engine.initial(), []
    for n, (now, item) in enumerate(timeline(week(), 60)):
        if n % 337 == 0:  # a restart at an odd rhythm, so it lands inside windows and episodes
            fresh = build_engine({}, "Asia/Shanghai", "R001")
            state, failed = fresh.restore(fresh.initial(), json.loads(json.dumps(engine.snapshot(state))))
            assert failed == []
            engine = fresh
        d = engine.evaluate(state, item, now)
        state = d.state
        alarms += [(now, a.type, a.change.value) for a in d.alarms]
    assert [(t, ty, ch) for t, ty, ch, _sev in reference.alarms] == alarms
