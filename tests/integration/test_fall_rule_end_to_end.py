"""A radar fall nobody cancels travels the real path: the home asks "are you all right?", the window
runs out on the worker's own ticks, and the caregiver is alerted to a fall emergency."""

from __future__ import annotations

import json

import pytest

from firmware_sim.installation import SOS_DEVICE, build_home, gateway_settings
from gateway.config import DeviceConfig
from server.db.models import Alarm
from tests.integration.harness import provision, start_server, wait_until

pytestmark = pytest.mark.integration

RADAR = DeviceConfig(name="fall-radar", family="zigbee2mqtt", model="MIR-HE200-TY", role="fall_radar", room="bathroom")


@pytest.fixture
def installation(tmp_path, home_broker, central_broker, receiver):
    server = start_server(tmp_path, central_broker.address)
    provision(server, 1, [receiver.url("/caregiver/{code}")])
    settings = gateway_settings("gw-r001", "R001", home_broker.address, central_broker.address, tmp_path / "gw")
    settings = settings.model_copy(update={"devices": [SOS_DEVICE, RADAR], "rules": {"fall": {"cancel_window_s": 5}}})
    home = build_home(settings)
    home.start()
    yield server, home
    home.stop()
    server.stop()


def test_uncancelled_radar_fall_prompts_then_alerts_the_caregiver(installation, receiver):
    server, home = installation
    home.devices_link.publish("zigbee2mqtt/fall-radar", json.dumps({"fall_down_status": "fall"}).encode(), 1)

    def said() -> list[str]:
        return [json.loads(p)["key"] for _t, p in home.actions if json.loads(p)["action"] == "say"]

    assert wait_until(lambda: "fall_prompt" in said(), 10), home.actions
    got = receiver.wait_for(1, timeout=30)
    assert len(got) == 1 and got[0].path == "/caregiver/R001", "the caregiver was not alerted"
    with server.services.sessions() as s:
        alarm = s.query(Alarm).one()
        assert (alarm.type, alarm.severity, alarm.device) == ("fall", "emergency", "fall-radar")
        assert alarm.detail["reason"] == "no_cancel"
    assert wait_until(lambda: "fall_alarm" in said(), 10), "the resident was not told help is being called"
    assert said().index("fall_prompt") < said().index("fall_alarm")
