"""The gateway trusts only what makes sense: a forged ack or "help is coming" changes nothing."""

from __future__ import annotations

import json

import httpx
import pytest

from anxin import protocol
from tests.integration.harness import start_server, wait_until

pytestmark = pytest.mark.integration


def test_forged_ack_clears_nothing_and_the_sos_arrives_when_the_server_returns(
    tmp_path, installation, central_broker, receiver, attacker
):
    server, home = installation
    server.stop()  # the server is down: only the gateway's outbox holds the resident's call
    home.button.press()
    gw = home.gateway
    assert wait_until(lambda: gw.outbox.count("alarm") == 1 and gw.uplink.stats.batches_sent > 0, 15)

    mallory = attacker(central_broker.address)
    mallory.publish(protocol.ack_topic(home.gateway_id), b'{"v":1,"seqs":[],"upto":2147483647}')
    mallory.publish(protocol.ack_topic(home.gateway_id), b'{"v":1,"seqs":[1,2,3,4,5],"rejected":[6,7]}')
    assert wait_until(lambda: gw.uplink.stats.untrusted_acks >= 2, 15), "the forged acks never arrived"
    assert gw.outbox.count("alarm") == 1, "a forged ack made the gateway forget the SOS"

    again = start_server(tmp_path, central_broker.address)  # the same database: the server comes back
    try:
        assert receiver.wait_for(1, 30), "the SOS never reached the caregiver after the server came back"
        assert wait_until(lambda: gw.outbox.count("alarm") == 0, 15), "the real ack clears it"
    finally:
        again.stop()


def test_forged_help_is_coming_is_not_said(installation, central_broker, receiver, attacker):
    server, home = installation
    mallory = attacker(central_broker.address)
    forged = {
        "v": 1,
        "cmd": "alarm_acknowledged",
        "alarm_id": 1,
        "gateway_seq": 1,
        "type": "sos",
        "device": "sos-button",
        "by": "李伟 (tap http://evil.example)",
        "via": "caregiver_link",
    }
    mallory.publish(protocol.cmd_topic(home.gateway_id), json.dumps(forged).encode())
    # A real command after it, so we know the forged one was handled (commands are handled in order).
    mallory.publish(protocol.cmd_topic(home.gateway_id), b'{"v":1,"cmd":"no_such_command"}')
    assert wait_until(lambda: home.gateway.gateway.counters["commands"] >= 2, 15)
    assert not [p for _t, p in home.actions if b"help_coming" in p], "help is coming for an alarm that never was"

    # The real path still speaks: the caregiver taps the link, the home hears their name.
    home.button.press()
    note = receiver.wait_for(1, 15)[0]
    assert httpx.post(f"{server.settings.base_url}/api/v1/links/{note.token}/ack", timeout=10).status_code == 200
    assert wait_until(lambda: [p for _t, p in home.actions if b"help_coming" in p], 15)
    said = [json.loads(p) for _t, p in home.actions if b"help_coming" in p and b'"say"' in p]
    assert said and "李伟" in said[0]["text"] and "evil" not in said[0]["text"]
