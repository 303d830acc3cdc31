from gateway.model import AlarmChange, EventKind, Severity
from gateway.rules.supervision import SupervisionRule
from gateway.rules.temperature import TemperatureRule
from tests.unit.rules.helpers import Run, climate, ev


def test_offline_devices_share_one_alarm_that_clears_with_the_last():
    # supervision owns who is offline: each of its transitions lists everyone offline now
    r = Run(SupervisionRule())
    [a] = r.at(0, ev(EventKind.DEVICE_OFFLINE, "radar", devices=["radar"]))
    assert (a.type, a.severity, a.change) == ("device_offline", Severity.TECHNICAL, AlarmChange.RAISE)
    [b] = r.at(10, ev(EventKind.DEVICE_OFFLINE, "door", devices=["door", "radar"]))
    assert b.change == AlarmChange.UPDATE and b.detail["devices"] == ["door", "radar"]
    [c] = r.at(20, ev(EventKind.DEVICE_ONLINE, "radar", devices=["door"]))
    assert c.change == AlarmChange.UPDATE and c.detail["devices"] == ["door"]
    [d] = r.at(30, ev(EventKind.DEVICE_ONLINE, "door", devices=[]))
    assert d.change == AlarmChange.CLEAR


def test_the_rule_keeps_no_list_of_its_own_so_a_restart_cannot_leave_it_stale():
    r = Run(SupervisionRule())
    r.at(0, ev(EventKind.DEVICE_OFFLINE, "radar", devices=["radar"]))
    r.state = SupervisionRule().load(SupervisionRule().dump(r.state))
    [clear] = r.at(10, ev(EventKind.DEVICE_ONLINE, "radar", devices=[]))
    assert clear.change == AlarmChange.CLEAR
    # a snapshot from before (lists of devices in it) still loads; the lists are supervision's now
    old = {"offline": ["radar"], "battery_low": [], "bridge_offline": [], "tampered": {"btn": 5.0}}
    assert SupervisionRule().load(old).tampered == {"btn": 5.0}


def test_battery_and_bridge_recover():
    r = Run(SupervisionRule())
    assert [a.change for a in r.at(0, ev(EventKind.BATTERY_LOW, "btn"))] == [AlarmChange.RAISE]
    assert [a.change for a in r.at(1, ev(EventKind.BATTERY_OK, "btn"))] == [AlarmChange.CLEAR]
    assert [a.type for a in r.at(2, ev(EventKind.BRIDGE_OFFLINE, "bridge"))] == ["bridge_offline"]
    assert [a.change for a in r.at(3, ev(EventKind.BRIDGE_ONLINE, "bridge"))] == [AlarmChange.CLEAR]


def test_cold_for_thirty_minutes_warns_then_clears():
    r = Run(TemperatureRule(10, 32, 1800))
    r.at(0, climate(9.5))
    assert r.ticks(1, 1799, 60) == []
    [a] = r.ticks(1800, 1800)
    assert (a.type, a.severity, a.detail["direction"]) == ("indoor_temperature", Severity.WARNING, "cold")
    assert r.ticks(1801, 4000, 60) == [], "raised once"
    [c] = r.at(4001, climate(12))
    assert c.change == AlarmChange.CLEAR


def test_brief_excursion_and_edges_do_not_warn():
    r = Run(TemperatureRule(10, 32, 1800))
    r.at(0, climate(33))
    r.at(1700, climate(31))
    assert r.ticks(1701, 5000, 60) == []
    r.at(6000, climate(10.0))
    r.at(6000, climate(32.0, "kitchen"))
    assert r.ticks(6001, 9000, 60) == [], "10 and 32 are inside the range"


def test_hot_sustained_across_readings():
    r = Run(TemperatureRule(10, 32, 1800))
    for t in range(0, 1800, 300):
        r.at(t, climate(33 + t / 1000))
    [a] = r.at(1800, climate(34))
    assert a.detail["direction"] == "hot"


def test_a_stuck_tamper_flag_is_reported_once_per_six_hours():
    r = Run(SupervisionRule())
    assert [a.type for a in r.at(0, ev(EventKind.TAMPER, "btn"))] == ["tamper"]
    assert r.at(60, ev(EventKind.TAMPER, "btn")) == []
    assert [a.device for a in r.at(61, ev(EventKind.TAMPER, "door"))] == ["door"]
    assert [a.type for a in r.at(6 * 3600, ev(EventKind.TAMPER, "btn"))] == ["tamper"]


def test_a_nan_temperature_neither_clears_nor_restarts_an_excursion():
    r = Run(TemperatureRule(10, 32, 1800))
    r.at(0, climate(9.5))
    assert r.at(600, climate(float("nan"))) == []
    [a] = r.ticks(1800, 1800)
    assert a.detail["direction"] == "cold"
    assert r.at(1900, climate(float("nan"))) == [], "no clear: NaN is not back in range"
