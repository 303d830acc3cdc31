"""Garbage on a device topic is logged and counted; the very next real press still gets through."""

from __future__ import annotations

import logging

import pytest

from tests.integration.harness import provision, start_home, start_server, wait_until

pytestmark = pytest.mark.integration

BAD = [
    b"\xff\xfe not json at all",
    b'{"action": ',
    b'["a", "list"]',
    b'{"action": 42}',
    b'{"battery": "full", "linkquality": []}',
    b'{"action": "emergency", "padding": "' + b"x" * (1024 * 1024) + b'"}',
]


def test_garbage_is_counted_and_a_press_right_after_still_reaches_the_caregiver(
    tmp_path, home_broker, central_broker, receiver, caplog
):
    server = start_server(tmp_path, central_broker.address)
    provision(server, 1, [receiver.url("/cg")])
    home = start_home(tmp_path, home_broker.address, central_broker.address)
    try:
        caplog.set_level(logging.WARNING, logger="gateway")
        for payload in BAD:
            home.devices_link.publish("zigbee2mqtt/sos-button", payload, 1)
        assert wait_until(lambda: home.gateway.gateway.counters["parse_errors"] == len(BAD), 15), dict(
            home.gateway.gateway.counters
        )
        rejected = [r.getMessage() for r in caplog.records if "rejected message" in r.getMessage()]
        assert len(rejected) == len(BAD)
        assert any("not JSON" in m for m in rejected) and any("exceeds" in m for m in rejected)

        home.button.press()
        got = receiver.wait_for(1, timeout=10)
        assert len(got) == 1 and "紧急求助" in got[0].doc["title"]
        assert home.gateway.gateway.counters["internal_errors"] == 0
    finally:
        home.stop()
        server.stop()


def test_unknown_device_is_reported_not_ignored(tmp_path, home_broker, central_broker, receiver, caplog):
    server = start_server(tmp_path, central_broker.address)
    provision(server, 1, [receiver.url("/cg")])
    home = start_home(tmp_path, home_broker.address, central_broker.address)
    try:
        caplog.set_level(logging.WARNING, logger="gateway")
        home.devices_link.publish("zigbee2mqtt/0x00158d0001a2b3c4", b'{"occupancy": true, "battery": 80}', 1)
        assert wait_until(lambda: home.gateway.gateway.counters["unknown_devices"] == 1, 10)
        assert any("0x00158d0001a2b3c4" in r.getMessage() for r in caplog.records)
        from server.db.models import IngestedEvent

        def reported():
            with server.services.sessions() as s:
                return [
                    e.body
                    for e in s.query(IngestedEvent).filter_by(lane="event").all()
                    if e.body.get("kind") == "unknown_device"
                ]

        assert wait_until(reported, 10), "the server (and so the installer) must see the unknown device"
    finally:
        home.stop()
        server.stop()


def test_messages_that_fail_to_handle_do_not_block_the_home_bus(tmp_path, home_broker, central_broker, receiver):
    """The home's Mosquitto sends at most 20 unacknowledged messages to the gateway: a message whose
    handling fails must still be acknowledged, or after 20 of them no SOS press reaches the gateway."""
    server = start_server(tmp_path, central_broker.address)
    provision(server, 1, [receiver.url("/cg")])
    home = start_home(tmp_path, home_broker.address, central_broker.address)
    try:
        deep = b"[" * 5000 + b"]" * 5000  # JSON nested deeper than Python's parser recurses
        for _ in range(25):
            home.devices_link.publish("zigbee2mqtt/sos-button", deep, 1)
        gw = home.gateway.gateway
        assert wait_until(lambda: gw.counters["local_messages"] >= 20, 15), dict(gw.counters)
        home.button.press()
        got = receiver.wait_for(1, timeout=20)
        assert len(got) == 1 and "紧急求助" in got[0].doc["title"], dict(gw.counters)
        assert gw.counters["parse_errors"] == 25, dict(gw.counters)
    finally:
        home.stop()
        server.stop()
