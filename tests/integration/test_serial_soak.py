"""Serial soak: a blood-pressure bridge on a real pseudo-terminal, read by the gateway's own serial
wiring with pyserial, through garbage, split frames, bad CRCs and two unplug/replug cycles."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from firmware_sim.serial_devices import BpmBridge, BpMeasurement, PtyPort
from gateway.config import GatewaySettings, SerialPortConfig
from gateway.model import DeviceMessage, Reading
from gateway.transports.serial_devices import build_serial_devices
from tests.integration.harness import wait_until

pytestmark = pytest.mark.integration

FRAMES = 240


def test_every_valid_frame_is_decoded_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "ttyBPM"
    port = PtyPort(path).plug()
    bridge = BpmBridge(port)
    settings = GatewaySettings(
        gateway_id="soak", timezone="UTC", serial=[SerialPortConfig(port=str(path), family="ble-bpm", device="bpm")]
    )
    got: list[DeviceMessage] = []
    bridges: list[bool] = []
    lock = threading.Lock()

    def on_messages(msgs: list[DeviceMessage]) -> None:
        with lock:
            got.extend(msgs)

    (device,) = build_serial_devices(settings, on_messages, lambda b, up: bridges.append(up))
    transport = device.transport
    transport.start()
    try:
        assert transport.connected.wait(10), "the gateway never opened the pseudo-terminal"
        start = datetime(2026, 11, 28, 6, 0)
        sent: list[BpMeasurement] = []
        for i in range(FRAMES):
            m = BpMeasurement(100 + i % 90, 60 + i % 30, None, 60 + i % 40, start + timedelta(minutes=i))
            if i % 7 == 3:
                bridge.garbage()
            if i % 11 == 5:
                bridge.bad_crc(BpMeasurement(133, 88, None, 70, start - timedelta(days=1)))
            bridge.measure(m, split=4 if i % 5 == 0 else 1)
            sent.append(m)
            if i in (80, 160):
                # Make sure what was sent has arrived, then pull the cable in the middle of a frame.
                assert wait_until(lambda: len(got) == len(sent), 15), f"{len(got)} of {len(sent)} decoded"
                half = BpMeasurement(199, 99, None, 99, start - timedelta(days=2)).frame()
                port.write(half[: len(half) // 2])
                port.unplug()
                assert wait_until(lambda: not transport.connected.is_set(), 10)
                opens = transport.stats.opens
                port.plug()
                assert wait_until(
                    lambda opens=opens: transport.stats.opens > opens and transport.connected.is_set(), 20
                ), "the gateway did not reopen the replugged port"
                port.write(half[len(half) // 2 :])  # the rest of the torn frame arrives after the replug
        assert wait_until(lambda: len(got) >= len(sent), 20), f"{len(got)} of {len(sent)} decoded"
    finally:
        transport.stop()
        port.unplug()

    readings = [m for m in got if isinstance(m, Reading)]
    key = lambda r: (r.values["systolic"], r.values["diastolic"], r.values["pulse"], r.ts.replace(tzinfo=None))  # noqa: E731
    assert [key(r) for r in readings] == [
        (float(m.systolic), float(m.diastolic), float(m.pulse), m.measured_at) for m in sent
    ], "frames lost, duplicated or out of order"
    assert bridges == [True, False, True, False, True]
    counters = device.stream.counters  # type: ignore[attr-defined]
    assert counters["readings"] == FRAMES
    assert counters["bad_frames"] >= FRAMES // 11, "corrupted frames must be counted"
    assert transport.stats.losses == 2 and transport.stats.handler_errors == 0
