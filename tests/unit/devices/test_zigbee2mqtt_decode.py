"""zigbee2mqtt state messages are read with orjson first (issue 24: every burst report is parsed); what it
refuses gets the json module's verdict, so the gateway understands and rejects exactly what it did before."""

from __future__ import annotations

import json

import pytest

from gateway.config import DeviceConfig
from gateway.devices import zigbee2mqtt
from gateway.errors import ParseError

THERMO = DeviceConfig(name="thermo", family="zigbee2mqtt", role="climate", model="WSDCGQ11LM")

PAYLOADS = [
    b'{"temperature": 21.5, "humidity": 40, "battery": 91}',
    b'{"temperature": NaN, "humidity": 40}',  # json reads NaN; the intake rejects it later
    b'{"temperature": Infinity}',
    b'{"temperature": 1e999}',
    b'{"temperature": 21.5, "linkquality": 123456789012345678901234567890}',  # beyond 64 bits
    b'{"temperature": 20, "temperature": 22}',  # the last one wins, in both
    b'{"temperature": 20, "\\ud800": 1}',  # a lone surrogate in a key: an unknown key either way
    b'{"temperature": 20, "x": ' + b"[" * 2000 + b"]" * 2000 + b"}",  # deeper than orjson goes
    b'{"temperature": "warm"}',
    b"\xff\xfe",
    b"[1, 2]",
    b"",
]


def reference(payload: bytes) -> object:
    """What parse_state gave when it used json.loads alone."""
    try:
        json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return f"not JSON: {exc.__class__.__name__}"
    return None


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_state_message_reads_as_the_json_module_reads_it(payload: bytes) -> None:
    refused = reference(payload)
    if refused is not None:
        with pytest.raises(ParseError, match=str(refused)):
            zigbee2mqtt.parse_state("thermo", payload, THERMO)
        return
    # (orjson reads an integer beyond 64 bits as a float, json as an int: every number the parser takes
    # becomes a float, so what the gateway makes of the message is the same — compared below.)
    try:
        got = zigbee2mqtt.parse_state("thermo", payload, THERMO)
    except ParseError as exc:
        got = [f"refused: {exc}"]
    assert [repr(m) for m in got] == [repr(m) for m in _parse_with_json(payload)]


def _parse_with_json(payload: bytes) -> list[object]:
    """parse_state with json.loads in place of the decoder (the behaviour before orjson)."""
    original = zigbee2mqtt._decode
    zigbee2mqtt._decode = json.loads  # type: ignore[assignment]
    try:
        return list(zigbee2mqtt.parse_state("thermo", payload, THERMO))
    except ParseError as exc:
        return [f"refused: {exc}"]
    finally:
        zigbee2mqtt._decode = original


def test_a_climate_report_skips_the_event_keys_but_an_event_key_does_not() -> None:
    assert {
        "action",
        "sos",
        "fall_down_status",
        "status",
        "occupancy",
        "contact",
        "tamper",
        "battery_low",
    } == zigbee2mqtt.EVENT_KEYS
    msgs = zigbee2mqtt.parse_state("thermo", b'{"temperature": 21.5, "tamper": true, "battery_low": false}', THERMO)
    assert [type(m).__name__ for m in msgs] == ["DeviceEvent", "Reading", "Reading"]
