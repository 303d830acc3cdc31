"""A real gateway process dies (SIGKILL): its last will raises one offline alarm to staff; its return clears it."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from anxin.broker_address import BrokerAddress
from firmware_sim.receiver import NotificationReceiver
from server.db.models import Alarm, Gateway, Staff
from server.runtime import ServerRuntime
from tests.integration.harness import provision, start_server, wait_until

pytestmark = pytest.mark.integration


def start_gateway(tmp_path: Path, home_port: int, central_port: int) -> subprocess.Popen[bytes]:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "gateway_id": "gw-r001",
                "resident": "R001",
                "data_dir": str(tmp_path / "gw"),
                "local_broker": {"host": "127.0.0.1", "port": home_port},
                "central_broker": {"host": "127.0.0.1", "port": central_port},
                "devices": [
                    {"name": "sos-button", "family": "zigbee2mqtt", "model": "TS0215A_sos", "role": "sos_button"}
                ],
            }
        )
    )
    with open(tmp_path / "gateway.log", "ab") as log:  # the child keeps its own copy of the file
        return subprocess.Popen(
            [sys.executable, "-m", "gateway", "run", "--config", str(config)], stdout=log, stderr=subprocess.STDOUT
        )


def staffed_server(tmp_path: Path, central: BrokerAddress, receiver: NotificationReceiver) -> ServerRuntime:
    """A server with one home, its caregiver and the duty officer on the receiver, a 2 s offline grace."""
    server = start_server(tmp_path, central, gateway_offline_grace_s=2)
    provision(server, 1, [receiver.url("/caregiver/{code}")])
    with server.services.sessions() as s, s.begin():
        s.scalars(select(Staff).where(Staff.username == "duty")).one().notify_urls = [receiver.url("/duty")]
    return server


def state(server: ServerRuntime) -> str | None:
    """The gateway's presence as the server has it."""
    with server.services.sessions() as s:
        gw = s.get(Gateway, "gw-r001")
        return gw.state if gw else None


def test_a_killed_gateway_alarms_staff_once_and_its_return_clears_it(tmp_path, home_broker, central_broker, receiver):
    server = staffed_server(tmp_path, central_broker.address, receiver)
    gateway = start_gateway(tmp_path, home_broker.port, central_broker.port)
    try:
        assert wait_until(lambda: state(server) == "online", 30), (tmp_path / "gateway.log").read_text()
        gateway.send_signal(signal.SIGKILL)  # no clean disconnect: the broker publishes the last will
        gateway.wait(10)
        assert wait_until(lambda: [r.path for r in receiver.received] == ["/duty"], 40), receiver.received
        assert "网关离线" in receiver.received[0].text, "staff read what happened, in their language"

        def offline_alarms() -> list[tuple[str, str | None]]:
            with server.services.sessions() as s:
                return [(a.status, a.outcome) for a in s.scalars(select(Alarm).where(Alarm.type == "gateway_offline"))]

        # The phone may have the message a moment before the attempt is recorded.
        assert wait_until(lambda: offline_alarms() == [("notified", None)], 10), "one alarm for the home"
        gateway = start_gateway(tmp_path, home_broker.port, central_broker.port)
        assert wait_until(lambda: offline_alarms() == [("resolved", "cleared")], 40)
        assert [r.path for r in receiver.received] == ["/duty"], "caregivers are not woken for a technical alarm"
    finally:
        if gateway.poll() is None:
            gateway.terminate()
            gateway.wait(10)
        server.stop()


def test_a_cleanly_stopped_gateway_alarms_staff_after_the_grace_not_after_ten_minutes_of_silence(
    tmp_path, home_broker, central_broker, receiver
):
    """A clean stop sends no last will; the gateway says "offline" itself, so a Pi shut down (or a service
    stopped by mistake) that does not come back alarms staff after the grace, like a lost connection."""
    server = staffed_server(tmp_path, central_broker.address, receiver)
    gateway = start_gateway(tmp_path, home_broker.port, central_broker.port)
    try:
        assert wait_until(lambda: state(server) == "online", 30), (tmp_path / "gateway.log").read_text()
        gateway.terminate()  # SIGTERM: the gateway stops cleanly, the broker publishes no last will
        assert gateway.wait(20) == 0
        assert wait_until(lambda: state(server) == "offline", 10), "the server hears that the home went quiet"
        # Silence alone would take ten minutes (gateway_silent_after_s); the grace is 2 s here.
        assert wait_until(lambda: [r.path for r in receiver.received] == ["/duty"], 40), receiver.received
        assert "网关离线" in receiver.received[0].text
    finally:
        if gateway.poll() is None:
            gateway.terminate()
            gateway.wait(10)
        server.stop()
