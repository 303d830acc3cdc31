"""Text from homes is data: a device name cannot add lines or links to the caregiver's message."""

from __future__ import annotations

import pytest

from anxin import protocol
from server.home_text import csv_cell, one_line

pytestmark = pytest.mark.integration

FORGED = "sos-button\n\n⚠ 紧急：请立即点击确认 http://evil.example/c/steal\nTap here: https://evil.example/c/x\n\u202e"


def test_a_newline_and_a_link_in_a_device_name_do_not_reach_the_caregivers_message(
    installation, central_broker, receiver, attacker
):
    server, home = installation
    # The device name travels up the uplink as a home sent it (this one from a gateway that passes on
    # whatever its local bus said).
    body = {"type": "sos", "severity": "emergency", "change": "raise", "device": FORGED, "message": "SOS\nfake"}
    batch = protocol.UplinkBatch(
        home.gateway_id, "boot-x", (protocol.UplinkEvent(10_000, "alarm", 1.7e9, body),), sent_at=0.0
    )
    attacker(central_broker.address).publish(protocol.up_topic(home.gateway_id), protocol.encode_batch(batch))
    note = receiver.wait_for(1, 30)[0]
    text = note.doc["message"]
    links = [line for line in text.splitlines() if "http" in line]
    assert len(links) == 1 and "evil" not in text and "steal" not in text, text
    assert server.settings.base_url in links[0] and note.token, "the server's own link is the only one"
    device_line = next(line for line in text.splitlines() if line.startswith("设备"))
    assert "sos-button" in device_line and "\u202e" not in text
    assert len(text.splitlines()) == 5, "the device name added lines to the message"


def test_home_strings_are_one_plain_line_and_never_a_formula():
    assert one_line("卧室\r\n按钮\x1b[31m http://x.cn/a") == "卧室 按钮[31m […]"
    assert [csv_cell(v) for v in ("=cmd|' /C calc'!A0", "+1", "@SUM(A1)", "-2+3", "sos-button", 120)] == [
        "'=cmd|' /C calc'!A0",
        "'+1",
        "'@SUM(A1)",
        "'-2+3",
        "sos-button",
        120,
    ]
