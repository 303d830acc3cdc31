"""A resident who has not agreed to their readings being kept: the home's readings are not stored, yet an
SOS press still reaches the caregiver (emergency response needs no consent)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from firmware_sim.installation import build_home, gateway_settings
from firmware_sim.native_devices import NativeDevice
from gateway.config import DeviceConfig
from server.db.models import Alarm, NotificationAttempt, Reading, Resident
from server.trends.series import zone
from tests.conftest import Mosquitto
from tests.integration.harness import provision, start_server, wait_until

pytestmark = pytest.mark.integration


def test_without_consent_no_reading_is_stored_but_the_sos_is_notified(
    tmp_path: Path, home_broker: Mosquitto, central_broker: Mosquitto, receiver
) -> None:
    server = start_server(tmp_path, central_broker.address)
    provision(server, 1, [receiver.url("/caregiver/{code}")])
    with server.services.sessions() as s, s.begin():
        s.scalars(select(Resident).where(Resident.code == "R001")).one().consent = False
    settings = gateway_settings("gw-r001", "R001", home_broker.address, central_broker.address, tmp_path / "gw")
    devices = [*settings.devices, DeviceConfig(name="wifi-bp", family="native", role="bp_monitor")]
    home = build_home(settings.model_copy(update={"devices": devices}))
    home.start()
    try:
        monitor = NativeDevice("wifi-bp", lambda t, p: home.devices_link.publish(t, p, 1))
        at = datetime.now(zone("Asia/Shanghai")) - timedelta(hours=1)
        for minute in (0, 2):
            monitor.blood_pressure(150, 95, 70, measured_at=at + timedelta(minutes=minute))
        home.button.press()
        assert receiver.wait_for(1, timeout=20), "the SOS must reach the caregiver without any consent"
        # every event, readings included, is acknowledged: the gateway does not resend them for ever
        assert wait_until(lambda: home.gateway.outbox.count() == 0, 20), "outbox not drained"
        assert wait_until(lambda: server.ingest.counters["readings_without_consent"] >= 2, 10), server.ingest.counters
        with server.services.sessions() as s:
            assert s.scalars(select(Reading)).all() == []
            alarm = s.scalars(select(Alarm)).one()
            assert alarm.type == "sos"
            assert wait_until(lambda: s.query(NotificationAttempt).filter_by(ok=True).count() >= 1, 10)
    finally:
        home.stop()
        server.stop()
