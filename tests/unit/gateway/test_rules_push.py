"""The worker applies pushed rules atomically, keeps the old ones when invalid, and remembers across restarts."""

from __future__ import annotations

import pytest

from anxin import protocol
from gateway.commands import mode_topic
from gateway.items import DeviceMessages, LocalMessage, ServerCommand, Tick
from tests.unit.gateway.worker import START, Clock, events, make_gateway, push


def test_valid_push_applies_reports_and_survives_restart(tmp_path):
    clock = Clock(START)
    gw, _ = make_gateway(tmp_path, clock)
    push(gw, 3, {"fall": {"cancel_window_s": 10}})
    assert gw.rules.version == 3
    assert events(gw, "event")[-1] == {"device": None, "kind": "config_applied", "detail": {"version": 3}}
    assert next(r for r in gw.rules.engine.rules if r.name == "fall").cancel_window_s == 10
    gw.outbox.close()

    again, _ = make_gateway(tmp_path, clock)
    assert again.rules.version == 3, "the pushed configuration outlives a restart"
    assert next(r for r in again.rules.engine.rules if r.name == "fall").cancel_window_s == 10


@pytest.mark.parametrize(
    "version, rules, reason",
    [
        (5, {"fall": {"cancel_window_s": 1}}, "fall.cancel_window_s"),
        (5, {"unknown_rule": {}}, "unknown_rule"),
        (1, {}, "older than the applied version 2"),
        ("7", {}, "positive integer"),
        (5, "not a mapping", "rules must be an object"),
    ],
)
def test_invalid_push_is_rejected_and_the_old_rules_stay(tmp_path, version, rules, reason):
    clock = Clock(START)
    gw, _ = make_gateway(tmp_path, clock)
    push(gw, 2, {"fall": {"cancel_window_s": 20}})
    engine = gw.rules.engine
    push(gw, version, rules)
    assert gw.rules.engine is engine and gw.rules.version == 2
    report = events(gw, "event")[-1]
    assert report["kind"] == "config_rejected" and reason in report["detail"]["error"]
    assert gw.counters["rules_rejected"] == 1
    gw.outbox.close()
    again, _ = make_gateway(tmp_path, clock)
    assert again.rules.version == 2


def test_the_new_rules_decide_from_the_next_message(tmp_path):
    clock = Clock(START)
    gw, _ = make_gateway(tmp_path, clock)
    push(gw, 1, {"blood_pressure": {"limits": {"warning_systolic": 140, "warning_diastolic": 90}}})
    gw.decide(build_reading(145, 85))
    assert [a["type"] for a in events(gw, "alarm")] == ["bp_high"]


def build_reading(systolic: float, diastolic: float):
    from gateway.model import Reading

    return Reading("bpm", "blood_pressure", {"systolic": systolic, "diastolic": diastolic, "pulse": 70})


def test_learned_inactivity_survives_a_restart(tmp_path):
    from gateway.model import DeviceEvent, EventKind

    clock = Clock(START)
    gw, _ = make_gateway(tmp_path, clock)
    for minutes in (0, 20, 100):  # an 80-minute gap learned in the 08:00 slot
        clock.now = START + minutes * 60
        gw.decide(DeviceEvent("radar", EventKind.MOTION))
    learned = gw.rules.state["inactivity"].history
    gw.outbox.close()
    again, _ = make_gateway(tmp_path, clock)
    assert again.rules.state["inactivity"].history == learned and learned
    assert again.rules.state["inactivity"].last_activity == START + 100 * 60


def test_away_mode_from_the_home_bus_and_from_the_server(tmp_path):
    clock = Clock(START)
    gw, _ = make_gateway(tmp_path, clock, {"inactivity": {"default_day_min": 60}})
    gw.process(LocalMessage(mode_topic("gw-t"), b'{"away": true}'))
    assert gw.rules.state["inactivity"].away_since == START
    gw.process(ServerCommand(protocol.Command("set_away", {"away": False})))
    assert gw.rules.state["inactivity"].away_since is None
    gw.process(LocalMessage(mode_topic("gw-t"), b'{"away": "maybe"}'))
    assert gw.counters["parse_errors"] == 1, "bad input is counted and the worker carries on"


def test_a_steady_message_stream_does_not_starve_the_timers(tmp_path):
    """Timer rules (fall window, inactivity) need a tick every second even when the queue never empties."""
    from tests.integration.harness import wait_until

    clock = Clock(START)
    mono = {"t": 0.0}

    def monotonic() -> float:  # every look at the clock finds 0.3 s gone: processing is slow
        mono["t"] += 0.3
        return mono["t"]

    gw, _ = make_gateway(tmp_path, clock)
    gw.clocks.monotonic = monotonic
    for _ in range(50):
        gw.on_local_message("zigbee2mqtt/unknown-thing", b"not json")
    gw.start()
    try:
        assert wait_until(lambda: gw.counters["local_messages"] == 50, 10)
    finally:
        gw.stop()
    assert gw.counters["ticks"] >= 5, gw.counters


def test_a_fall_window_running_out_while_the_gateway_was_down_still_raises(tmp_path):
    from gateway.model import DeviceEvent, EventKind

    clock = Clock(START)
    gw, _ = make_gateway(tmp_path, clock)
    gw.decide(DeviceEvent("radar", EventKind.FALL))
    assert events(gw, "alarm") == []
    gw.outbox.close()  # power cut inside the 30 s window

    clock.now += 120
    again, _ = make_gateway(tmp_path, clock)
    again.process(Tick())
    [alarm] = events(again, "alarm")
    assert (alarm["type"], alarm["severity"], alarm["detail"]["reason"]) == ("fall", "emergency", "no_cancel")


def test_switching_fall_off_during_its_window_raises_the_pending_fall(tmp_path):
    from gateway.model import DeviceEvent, EventKind

    clock = Clock(START)
    gw, _ = make_gateway(tmp_path, clock)
    gw.process(DeviceMessages([DeviceEvent("radar", EventKind.FALL)]))
    clock.now += 10  # inside the 30 s window, nobody cancelled yet
    push(gw, 2, {"fall": {"enabled": False}})
    assert [(a["type"], a["severity"], a["detail"]["reason"]) for a in events(gw, "alarm")] == [
        ("fall", "emergency", "rule_disabled")
    ]
    assert events(gw, "event")[-1]["kind"] == "config_applied"
    gw.outbox.close()
