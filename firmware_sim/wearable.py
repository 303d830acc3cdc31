"""A wearable that streams acceleration on the home's local bus in the native `accel` format, live."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gateway.falls.recordings import STANDARD_GRAVITY, load_recording
from gateway.falls.resample import Resampler

Publish = Callable[[str, bytes], object]


def native_topic(device: str) -> str:
    """Where a native device publishes (docs/protocol.md)."""
    return f"anxin/dev/{device}"


def accel_messages(
    xyz: np.ndarray, t0: float, rate_hz: float = 50.0, chunk_s: float = 1.0, unit: str = "g"
) -> Iterator[dict[str, Any]]:
    """Native `accel` messages for evenly spaced samples in g, about `chunk_s` seconds each."""
    if unit not in ("g", "m/s2"):
        raise ValueError(f"unit must be 'g' or 'm/s2', not {unit!r}")
    scale = 1.0 if unit == "g" else STANDARD_GRAVITY
    per = max(1, int(round(chunk_s * rate_hz)))
    for i in range(0, len(xyz), per):
        samples = np.round(xyz[i : i + per] * scale, 4).tolist()
        yield {
            "v": 1,
            "type": "accel",
            "t0": round(t0 + i / rate_hz, 4),
            "rate_hz": rate_hz,
            "unit": unit,
            "samples": samples,
        }


def from_mobifall(path: Path, rate_hz: float = 50.0) -> np.ndarray:
    """A MobiFall recording resampled to the wearable's rate, in g."""
    rec = load_recording(path)
    return Resampler(rate_hz).feed(rec.t, rec.xyz).xyz


@dataclass
class Wearable:
    """Streams a trace as the device would: one message per chunk, paced by the clock unless `speed` is 0."""

    name: str
    publish: Publish
    rate_hz: float = 50.0
    chunk_s: float = 1.0
    unit: str = "g"

    def stream(
        self,
        xyz: np.ndarray,
        speed: float = 1.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> int:
        """Publish the whole trace; speed 1 is real time, 0 as fast as possible. Returns messages sent."""
        start = clock()
        sent = 0
        for doc in accel_messages(xyz, start, self.rate_hz, self.chunk_s, self.unit):
            if speed > 0:  # a real device sends a chunk once its last sample has been taken
                due = start + (doc["t0"] - start + len(doc["samples"]) / self.rate_hz) / speed
                sleep(max(0.0, due - clock()))
            self.publish(native_topic(self.name), json.dumps(doc, separators=(",", ":")).encode())
            sent += 1
        return sent
