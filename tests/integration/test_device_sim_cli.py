"""`anxin-sim` device subcommands as a person runs them: over the home broker and on a pseudo-terminal."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from anxin.mqtt import MqttLink, make_client
from gateway.config import DeviceConfig, GatewaySettings
from gateway.devices.ble_bpm import BpmStream
from gateway.devices.router import Router, subscriptions
from gateway.model import DeviceMessage
from gateway.transports.serial_port import SerialTransport
from tests.integration.harness import sim, wait_until

pytestmark = pytest.mark.integration


def test_fall_and_bp_subcommands_publish_what_the_gateway_understands(home_broker) -> None:  # type: ignore[no-untyped-def]
    got: list[tuple[str, bytes]] = []
    link = MqttLink(make_client("test-listener"), home_broker.address, lambda t, p: got.append((t, p)), subscriptions())
    link.start()
    try:
        assert link.wait_connected(10)
        assert wait_until(lambda: link.stats.connects == 1, 5)
        port = str(home_broker.port)
        assert sim("fall", "--port", port, "--model", "FDS315").returncode == 0
        assert sim("bp", "--port", port, "--systolic", "151", "--diastolic", "96").returncode == 0
        assert wait_until(lambda: len(got) == 2, 10), got
    finally:
        link.stop()
    router = Router(
        GatewaySettings(
            gateway_id="t",
            devices=[
                DeviceConfig(name="fall-radar", family="zigbee2mqtt", model="FDS315", role="fall_radar"),
                DeviceConfig(name="bp-monitor", family="native", role="bp_monitor"),
            ],
        )
    )
    msgs = [m for t, p in got for m in router.parse(t, p)]
    assert [getattr(m, "kind", None) for m in msgs][:1] == ["fall"]
    bp = [m for m in msgs if getattr(m, "metric", None) == "blood_pressure"]
    assert len(bp) == 1 and bp[0].values["systolic"] == 151.0 and bp[0].ts is not None


def test_serial_bpm_subcommand_is_a_port_pyserial_can_read(tmp_path: Path) -> None:
    path = tmp_path / "ttyBPM"
    proc = subprocess.Popen(
        [sys.executable, "-m", "firmware_sim", "serial-bpm", str(path), "--every", "0.5", "--faults"],
        stdout=subprocess.PIPE,
        text=True,
    )
    got: list[DeviceMessage] = []
    lock = threading.Lock()
    stream = BpmStream("bpm")

    def on_bytes(data: bytes) -> None:
        with lock:
            got.extend(stream.feed(data))

    transport = SerialTransport(str(path), 57600, on_bytes)
    try:
        assert proc.stdout is not None and "blood-pressure bridge on" in proc.stdout.readline()
        transport.start()
        # --faults sends garbage and bad CRCs every third measurement: counted, never decoded
        assert wait_until(lambda: len(got) >= 3 and stream.counters["bad_frames"] >= 1, 30), f"{got} {stream.counters}"
    finally:
        transport.stop()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    assert not path.exists(), "stopping the simulator unplugs the device"
