"""`anxin-sim` chronic-condition subcommands as a person runs them: native JSON over the home broker, and a
BLE bridge on a pseudo-terminal read with pyserial."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from anxin.mqtt import MqttLink, make_client
from gateway.config import DeviceConfig, GatewaySettings
from gateway.devices import ble_gatt
from gateway.devices.router import Router, subscriptions
from gateway.model import DeviceMessage, Reading
from gateway.transports.serial_port import SerialTransport
from tests.integration.harness import sim, wait_until

pytestmark = pytest.mark.integration


def test_native_health_subcommands_publish_what_the_gateway_understands(home_broker) -> None:  # type: ignore[no-untyped-def]
    got: list[tuple[str, bytes]] = []
    link = MqttLink(make_client("test-listener"), home_broker.address, lambda t, p: got.append((t, p)), subscriptions())
    link.start()
    try:
        assert link.wait_connected(10)
        assert wait_until(lambda: link.stats.connects == 1, 5)
        port = str(home_broker.port)
        assert sim("glucose", "--port", port, "--value", "2.9", "--meal", "bedtime").returncode == 0
        assert sim("spo2", "--port", port, "--value", "88").returncode == 0
        assert sim("weight", "--port", port, "--value", "81.4").returncode == 0
        assert sim("temperature", "--port", port, "--value", "38.6").returncode == 0
        assert wait_until(lambda: len(got) == 4, 10), got
    finally:
        link.stop()
    router = Router(
        GatewaySettings(
            gateway_id="t",
            devices=[
                DeviceConfig(name=n, family="native", role=r)
                for n, r in (
                    ("glucometer", "glucose_meter"),
                    ("oximeter", "pulse_oximeter"),
                    ("scale", "scale"),
                    ("thermometer", "thermometer"),
                )
            ],
        )
    )
    readings = [m for t, p in got for m in router.parse(t, p) if isinstance(m, Reading) and m.metric != "device_status"]
    assert [(r.metric, dict(r.values)) for r in readings] == [
        ("glucose", {"glucose_mmol_l": 2.9}),
        ("spo2", {"spo2": 88.0, "pulse": 72.0}),
        ("weight", {"weight_kg": 81.4}),
        ("body_temperature", {"temperature_c": 38.6}),
    ]
    assert readings[0].flags == frozenset({"bedtime"}) and all(r.ts is not None for r in readings)


def test_serial_health_subcommand_is_a_port_pyserial_can_read(tmp_path: Path) -> None:
    path = tmp_path / "ttyGLUCOSE"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "firmware_sim",
            "serial-health",
            str(path),
            "--device",
            "glucose",
            "--value",
            "3.4",
            "--every",
            "0.5",
            "--faults",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    got: list[DeviceMessage] = []
    lock = threading.Lock()
    stream = ble_gatt.stream("glucometer")

    def on_bytes(data: bytes) -> None:
        with lock:
            got.extend(stream.feed(data))

    transport = SerialTransport(str(path), 57600, on_bytes)
    try:
        assert proc.stdout is not None and "glucose bridge on" in proc.stdout.readline()
        transport.start()
        assert wait_until(lambda: len(got) >= 4 and stream.counters["bad_frames"] >= 1, 30), f"{got} {stream.counters}"
    finally:
        transport.stop()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    glucose = [m for m in got if isinstance(m, Reading) and m.metric == "glucose"]
    assert glucose and all(m.values["glucose_mmol_l"] == 3.39 for m in glucose)  # 61 mg/dL on the wire = 3.386
    assert any(isinstance(m, Reading) and m.metric == "glucose_context" for m in got)
    assert not path.exists(), "stopping the simulator unplugs the device"
