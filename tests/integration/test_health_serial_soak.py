"""Serial soak for the health-device bridge (`ble-gatt`): a glucose meter with context, an oximeter, a scale
and a thermometer multiplexed on one real pseudo-terminal, through garbage, split frames, bad CRCs and an
unplug/replug in the middle of a frame; every valid value comes out exactly once, in order."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from firmware_sim.health_devices import (
    GLUCOSE,
    GLUCOSE_CONTEXT,
    PLX_SPOT,
    TEMPERATURE,
    WEIGHT,
    GattBridge,
    GlucoseSample,
    OximeterSample,
    TemperatureSample,
    Weighing,
    gatt_frame,
)
from firmware_sim.serial_devices import PtyPort
from gateway.config import GatewaySettings, SerialPortConfig
from gateway.model import DeviceMessage, Reading
from gateway.transports.serial_devices import build_serial_devices
from tests.integration.harness import wait_until

pytestmark = pytest.mark.integration

ROUNDS = 60  # each round: glucose + context, spot-check, weighing, temperature = 5 frames


def _values(i: int, at: datetime) -> list[tuple[int, bytes, tuple[str, float]]]:
    g = GlucoseSample(i, 3.0 + (i % 80) / 10, at, meal="before_meal", mg_dl=False)
    ctx = g.context()
    assert ctx is not None
    return [
        (GLUCOSE, g.measurement(), ("glucose", round(3.0 + (i % 80) / 10, 2))),
        (GLUCOSE_CONTEXT, ctx, ("glucose_context", float(i))),
        (PLX_SPOT, OximeterSample(85 + i % 15, 60 + i % 30, at).spot_check(), ("spo2", 85.0 + i % 15)),
        (WEIGHT, Weighing(60 + (i % 40) / 2, at).measurement(), ("weight", 60 + (i % 40) / 2)),
        (
            TEMPERATURE,
            TemperatureSample(36.0 + (i % 30) / 10, at).measurement(),
            ("body_temperature", round(36.0 + (i % 30) / 10, 2)),
        ),
    ]


def _key(r: Reading) -> tuple[str, float]:
    main = {
        "glucose": "glucose_mmol_l",
        "glucose_context": "sequence",
        "spo2": "spo2",
        "weight": "weight_kg",
        "body_temperature": "temperature_c",
    }[r.metric]
    return r.metric, r.values[main]


def test_every_valid_health_frame_is_decoded_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "ttyHEALTH"
    port = PtyPort(path).plug()
    bridge = GattBridge(port)
    settings = GatewaySettings(
        gateway_id="soak", timezone="UTC", serial=[SerialPortConfig(port=str(path), family="ble-gatt", device="health")]
    )
    got: list[DeviceMessage] = []
    lock = threading.Lock()

    def on_messages(msgs: list[DeviceMessage]) -> None:
        with lock:
            got.extend(msgs)

    (device,) = build_serial_devices(settings, on_messages, lambda b, up: None)
    transport = device.transport
    transport.start()
    expected: list[tuple[str, float]] = []
    try:
        assert transport.connected.wait(10), "the gateway never opened the pseudo-terminal"
        start = datetime(2026, 11, 28, 6, 0)
        for i in range(ROUNDS):
            for j, (uuid, value, key) in enumerate(_values(i, start + timedelta(minutes=i))):
                if (i + j) % 7 == 3:
                    port.write(b"\x00\xffnoise\xdb\x01\xc0\xc0junk")
                if (i + j) % 11 == 5:
                    bridge.bad_crc(uuid, value)
                bridge.send(uuid, value, split=3 if (i + j) % 5 == 0 else 1)
                expected.append(key)
            if i == ROUNDS // 2:
                assert wait_until(lambda: len(got) == len(expected), 15), f"{len(got)} of {len(expected)} decoded"
                torn = gatt_frame(WEIGHT, Weighing(99.0, start).measurement())
                port.write(torn[: len(torn) // 2])
                port.unplug()
                assert wait_until(lambda: not transport.connected.is_set(), 10)
                port.plug()
                assert wait_until(lambda: transport.connected.is_set(), 20), "the replugged port was not reopened"
                port.write(torn[len(torn) // 2 :])
        assert wait_until(lambda: len(got) >= len(expected), 20), f"{len(got)} of {len(expected)} decoded"
    finally:
        transport.stop()
        port.unplug()
    assert [_key(r) for r in got if isinstance(r, Reading)] == expected, "values lost, duplicated or out of order"
    counters = device.stream.counters  # type: ignore[attr-defined]
    assert counters["readings"] == ROUNDS * 5 and counters["bad_frames"] >= ROUNDS * 5 // 11
    assert transport.stats.losses == 1 and transport.stats.handler_errors == 0
