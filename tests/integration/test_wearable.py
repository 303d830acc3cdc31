"""The wearable simulator streams the native `accel` format through a real Mosquitto; a fall comes out the far side."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import numpy as np
import pytest

from anxin.mqtt import MqttLink, make_client
from gateway.falls.monitor import FallMonitor
from gateway.falls.recordings import STANDARD_GRAVITY
from gateway.model import AccelChunk, EventKind
from tests.integration.harness import wait_until

pytestmark = pytest.mark.integration


def as_chunk(device: str, doc: dict) -> AccelChunk:
    """What the gateway's native-device parser makes of an accel message (docs/protocol.md), for this test."""
    scale = 1.0 if doc["unit"] == "g" else 1.0 / STANDARD_GRAVITY
    return AccelChunk(device, doc["t0"], doc["rate_hz"], tuple(tuple(v * scale for v in s) for s in doc["samples"]))


@pytest.mark.parametrize("trace, unit, falls", [("fall", "g", 1), ("sit-hard", "m/s2", 0), ("jump", "g", 0)])
def test_anxin_sim_wearable_streams_a_trace_the_detector_judges(home_broker, trace, unit, falls):
    received: list[tuple[str, bytes]] = []
    lock = threading.Lock()

    def on_message(topic: str, payload: bytes) -> None:
        with lock:
            received.append((topic, payload))

    listener = MqttLink(make_client("test-wearable-listener"), home_broker.address, on_message, [("anxin/dev/#", 1)])
    listener.start()
    try:
        assert listener.wait_connected(10)
        assert wait_until(lambda: listener.client.is_connected(), 10)
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "firmware_sim",
                "wearable",
                "--port",
                str(home_broker.port),
                "--name",
                "wrist-1",
                "--trace",
                trace,
                "--unit",
                unit,
                "--speed",
                "0",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        sent = int(out.stdout.split("sent ")[1].split()[0])
        assert sent >= 14
        assert wait_until(lambda: len(received) >= sent, 30)
    finally:
        listener.stop()
    monitor = FallMonitor()
    events = []
    t0s = []
    for topic, payload in received:
        doc = json.loads(payload)
        assert topic == "anxin/dev/wrist-1"
        assert doc["v"] == 1 and doc["type"] == "accel" and doc["unit"] == unit and doc["rate_hz"] == 50.0
        assert np.asarray(doc["samples"]).shape[1] == 3
        t0s.append(doc["t0"])
        events += monitor.feed(as_chunk("wrist-1", doc))
    assert np.all(np.diff(t0s) > 0)  # in order, none lost or repeated
    assert [e.kind for e in events] == [EventKind.FALL] * falls
    assert all(e.detail["source"] == "detector" for e in events)


def test_a_missing_broker_or_file_is_a_one_line_error(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "firmware_sim", "wearable", "--mobifall", str(tmp_path / "FOL_acc_1_1.txt")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and "FOL_acc_1_1.txt" in out.stderr and "Traceback" not in out.stderr
