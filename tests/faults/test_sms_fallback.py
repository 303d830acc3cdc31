"""The uplink is down when the resident presses the button: the home speaks at once, caregivers get
an SMS through the (simulated) GSM modem, and the server later gets the alarm with that story."""

from __future__ import annotations

import json

import pytest

from anxin.mqtt import MqttLink, make_client
from tests.faults.checks import assert_nothing_lost, ready, settled
from tests.faults.procs import stored
from tests.integration.harness import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.faults]

TYPED = ["+8613800138000", "139 0013 9000"]  # as a person writes them in the gateway configuration
PHONES = ["+8613800138000", "+8613900139000"]
LABEL = "王秀英（德胜门内大街 12 号 3 单元 401）"


def test_sms_when_uplink_cannot_deliver_then_server_sees_whole_story(make_installation, modem):
    inst = make_installation(
        sms={
            "port": modem.port,
            "caregivers": TYPED,
            "after_s": 3.0,
            "resident_label": LABEL,
            "retry_after_s": 1.0,
            "command_timeout_s": 2.0,
        }
    )
    inst.server.start()
    inst.gateway.start()
    actions: list[dict] = []
    speaker = MqttLink(
        make_client("fault-speaker"),
        inst.home.address,
        lambda t, p: actions.append(json.loads(p)),
        [("anxin/home/gw-f1/action", 1)],
    )
    speaker.start()
    try:
        ready(inst)
        inst.central.stop()  # the home's internet is down
        modem.fail_next(1, "cms:331")  # and the first SMS attempt finds no network
        inst.devices.press()
        assert wait_until(lambda: any(a.get("key") == "sos_raised" for a in actions), 10), (
            "the home must tell the resident at once, uplink or not"
        )
        assert wait_until(lambda: all(modem.texts().get(p) for p in PHONES), 60), inst.gateway.log()
        for phone in PHONES:
            [text] = modem.texts()[phone]
            assert "紧急求助" in text and LABEL in text, text
        assert stored(inst.server).lane("alarm") == []
        inst.central.start()
        st = settled(inst)
        assert_nothing_lost(st, inst)
        [(_id, seq, _lane, body)] = st.lane("alarm")
        assert body["sms"]["delivered_to"] == PHONES
        tries = [(a["to"], a["ok"]) for a in body["sms"]["attempts"]]
        assert tries == [(PHONES[0], False), (PHONES[0], True), (PHONES[1], True)]
        audit = inst.server.query(
            "SELECT a.action FROM alarm_audit a JOIN alarms x ON x.id = a.alarm_id WHERE x.gateway_seq = ? "
            "ORDER BY a.id",
            seq,
        )
        assert [r[0] for r in audit][:2] == ["raised", "sms_sent_by_gateway"]
    finally:
        speaker.stop()
