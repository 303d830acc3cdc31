"""The typed uplink bodies: what the gateway encodes is the wire format it always sent, and the decode
refuses exactly what the server always refused (an alarm never for its text)."""

from __future__ import annotations

import math

import pytest

from anxin import protocol as p

# As gateway/service.py:alarm_body and gateway/intake.py:message_body / gateway/outbox.py build them today.
ALARM = {
    "type": "sos",
    "severity": "emergency",
    "change": "raise",
    "device": "sos-button",
    "message": "SOS button pressed",
    "detail": {"action": "emergency"},
    "resident": "R001",
}
READING = {
    "device": "climate-1",
    "metric": "climate",
    "values": {"temperature": 21.5, "humidity": 48},
    "flags": ["irregular_pulse"],
    "detail": {},
    "measured_at": "2026-11-28T07:30:00+08:00",
}
EVENT = {"device": "door-1", "kind": "door_open", "detail": {"battery": 80}}
GAP_DISK = {
    "reason": "disk_cap",
    "ranges": [[9001, 9180], [9182, 9400]],
    "count": 399,
    "first_ts": 1795860000.0,
    "last_ts": 1795861000.0,
}
GAP_RESTART = {"reason": "unclean_restart", "ranges": [[5, 9]], "count": 5, "note": "reserved before a power cut"}


@pytest.mark.parametrize(
    "lane, wire", [("alarm", ALARM), ("reading", READING), ("event", EVENT), ("gap", GAP_DISK), ("gap", GAP_RESTART)]
)
def test_decode_then_encode_gives_back_the_same_wire_body(lane: str, wire: dict[str, object]) -> None:
    body = p.decode_body(lane, wire)
    assert body.lane == lane
    assert body.to_wire() == wire
    assert list(body.to_wire()) == list(wire), "same keys, in the order the gateway writes them"


def test_the_gateway_builds_bodies_with_the_types() -> None:
    alarm = p.AlarmBody(
        "sos", "emergency", "raise", "sos-button", "SOS button pressed", {"action": "emergency"}, "R001"
    )
    assert alarm.to_wire() == ALARM
    texted = p.AlarmBody.from_wire({**ALARM, "sms": {"at": 1.0, "delivered_to": ["+86138"]}})
    assert texted.sms == {"at": 1.0, "delivered_to": ["+86138"]} and texted.to_wire()["sms"] == texted.sms
    reading = p.ReadingBody(
        "climate-1",
        "climate",
        {"temperature": 21.5, "humidity": 48},
        ("irregular_pulse",),
        {},
        "2026-11-28T07:30:00+08:00",
    )
    assert reading.to_wire() == READING
    assert p.EventBody("door-1", "door_open", {"battery": 80}).to_wire() == EVENT
    assert p.GapBody("disk_cap", ((9001, 9180), (9182, 9400)), 399, 1795860000.0, 1795861000.0).to_wire() == GAP_DISK


@pytest.mark.parametrize(
    "lane, wire, reason",
    [
        ("alarm", {"severity": "emergency"}, "alarm without a type"),
        ("alarm", {"type": 7}, "alarm without a type"),
        ("reading", {"values": {"v": 1}}, "reading without metric or values"),
        ("reading", {"metric": "m", "values": [1]}, "reading without metric or values"),
        ("reading", {"metric": "m", "values": {"v": math.nan}}, "reading with non-numeric values"),
        ("reading", {"metric": "m", "values": {"v": True}}, "reading with non-numeric values"),
        ("reading", {"metric": "m", "values": {"v": "1"}}, "reading with non-numeric values"),
        ("gap", {"ranges": [[1, 2, 3]]}, "gap record whose ranges are not pairs"),
        ("gap", {"ranges": [[1, True]]}, "gap record whose ranges are not pairs"),
        ("nope", {}, "bad lane"),
    ],
)
def test_what_the_server_refuses_and_why(lane: str, wire: dict[str, object], reason: str) -> None:
    with pytest.raises(p.ProtocolError, match=reason):
        p.decode_body(lane, wire)


def test_an_alarm_is_never_refused_for_its_text() -> None:
    alarm = p.AlarmBody.from_wire(
        {
            "type": "sos",
            "severity": 0,
            "change": None,
            "device": {"ieee": "0x1"},
            "message": ["help"],
            "detail": "pressed twice",
            "sms": "sent",
            "extra": 1,
        }
    )
    assert alarm == p.AlarmBody("sos", None, "None", "{'ieee': '0x1'}", "['help']", {"value": "pressed twice"})
    assert p.AlarmBody.from_wire({"type": "sos"}).change == "raise", "no change: a raise"


def test_a_reading_s_odd_fields_are_read_as_the_server_always_read_them() -> None:
    reading = p.ReadingBody.from_wire(
        {"metric": "m", "values": {"v": 1}, "flags": math.nan, "device": None, "measured_at": 17}
    )
    assert (reading.device, reading.flags, reading.measured_at) == ("None", ("nan",), None)
    assert p.ReadingBody.from_wire({"metric": "m", "values": {}}).device == ""


def test_alarm_acknowledged_command_carries_what_the_gateway_reads() -> None:
    cmd = p.AlarmAcknowledged(3, 10412, "sos", "sos-button", "李伟", "console").to_command()
    assert p.decode_command(p.encode_command(cmd)) == p.Command(
        "alarm_acknowledged",
        {"alarm_id": 3, "gateway_seq": 10412, "type": "sos", "device": "sos-button", "by": "李伟", "via": "console"},
    )
