"""The "service" press at home, end to end through a real gateway and real Mosquitto: a long press becomes a
service request at the desk and raises no alarm; a short press on the same button stays an SOS."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from firmware_sim.installation import build_home, gateway_settings
from gateway.config import DeviceConfig
from server.db.models import Alarm
from server.db.models_assist import ServiceRequest
from tests.integration.harness import provision, start_server, wait_until

pytestmark = pytest.mark.integration

# Heiman HS1EB reports single / double / hold: a short press is the SOS, a long press (hold) asks for a service.
BUTTON = DeviceConfig(
    name="sos-button",
    family="zigbee2mqtt",
    model="HS1EB",
    role="sos_button",
    room="bedroom",
    options={"service_actions": ["hold"], "service_category": "other"},
)


def _count(server, model, *where) -> int:
    with server.services.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_long_press_is_a_service_request_and_short_press_stays_an_sos(
    tmp_path, home_broker, central_broker, receiver
) -> None:
    server = start_server(tmp_path, central_broker.address)
    provision(server, 1, [receiver.url("/caregiver/{code}")])
    settings = gateway_settings("gw-r001", "R001", home_broker.address, central_broker.address, tmp_path / "gw")
    home = build_home(settings.model_copy(update={"devices": [BUTTON]}))
    home.button.model = "HS1EB"
    home.start()
    try:
        home.button.send({"action": "hold"})
        assert wait_until(lambda: _count(server, ServiceRequest) == 1, timeout=30)
        with server.services.sessions() as s:
            req = s.scalars(select(ServiceRequest)).one()
            assert (req.channel, req.category, req.status) == ("home", "other", "new")
        assert _count(server, Alarm) == 0  # a service press is never an alarm

        home.button.press()  # HS1EB's short press: "single"
        assert wait_until(lambda: _count(server, Alarm, Alarm.severity == "emergency") == 1, timeout=30)
        assert _count(server, ServiceRequest) == 1  # and an SOS is never a service request
    finally:
        home.stop()
        server.stop()
