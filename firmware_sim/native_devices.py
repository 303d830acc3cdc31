"""Wi-Fi devices speaking Anxin's native JSON format (docs/protocol.md) on `anxin/dev/<name>`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Publish = Callable[[str, bytes], object]


def payload(kind: str, **fields: Any) -> dict[str, Any]:
    """A version-1 native message of the given type."""
    return {"v": 1, "type": kind, **fields}


@dataclass
class NativeDevice:
    """One native device; every method publishes exactly one message and returns it."""

    name: str
    publish: Publish
    battery: float | None = 88
    clock: Callable[[], float] = time.time

    @property
    def topic(self) -> str:
        """Where this device publishes."""
        return f"anxin/dev/{self.name}"

    def send(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Publish a message of any type (battery attached when the device has one)."""
        doc = payload(kind, **fields)
        if self.battery is not None:
            doc["battery"] = self.battery
        self.publish(self.topic, json.dumps(doc).encode())
        return doc

    def press(self, action: str = "sos") -> dict[str, Any]:
        """Button: `sos`, `cancel` or `checkin`."""
        return self.send("button", action=action, ts=self.clock())

    def fall(self, state: str = "fall", confidence: float = 0.9) -> dict[str, Any]:
        """Fall sensor: `fall`, `maybe_fall`, `low_posture` or `none`."""
        return self.send("fall", state=state, confidence=confidence, ts=self.clock())

    def blood_pressure(
        self,
        systolic: float,
        diastolic: float,
        pulse: float | None = 70,
        flags: tuple[str, ...] = (),
        measured_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Blood-pressure monitor: one measurement in mmHg."""
        at = measured_at or datetime.fromtimestamp(self.clock(), UTC)
        return self.send(
            "bp",
            systolic=systolic,
            diastolic=diastolic,
            pulse=pulse,
            unit="mmHg",
            flags=list(flags),
            measured_at=at.isoformat(timespec="seconds"),
        )

    def _at(self, measured_at: datetime | None) -> str:
        return (measured_at or datetime.fromtimestamp(self.clock(), UTC)).isoformat(timespec="seconds")

    def glucose(self, mmol_l: float, meal: str | None = None, measured_at: datetime | None = None) -> dict[str, Any]:
        """Glucose meter: one fingerstick in mmol/L with its meal context."""
        extra = {"meal": meal} if meal else {}
        return self.send("glucose", glucose=mmol_l, unit="mmol/L", measured_at=self._at(measured_at), **extra)

    def spo2(
        self, saturation: float, pulse: float, continuous: bool = False, measured_at: datetime | None = None
    ) -> dict[str, Any]:
        """Pulse oximeter: a spot-check, or one second of a continuous recording."""
        return self.send(
            "spo2",
            spo2=saturation,
            pulse=pulse,
            mode="continuous" if continuous else "spot_check",
            measured_at=self._at(measured_at),
        )

    def weight(self, kg: float, measured_at: datetime | None = None) -> dict[str, Any]:
        """Scale: one weighing in kg."""
        return self.send("weight", weight=kg, unit="kg", measured_at=self._at(measured_at))

    def body_temperature(self, celsius: float, measured_at: datetime | None = None) -> dict[str, Any]:
        """Thermometer: one reading in °C."""
        return self.send("body_temperature", temperature=celsius, unit="C", measured_at=self._at(measured_at))

    def motion(self, moving: bool = True) -> dict[str, Any]:
        """Motion sensor."""
        return self.send("motion", motion=moving, ts=self.clock())

    def door(self, is_open: bool) -> dict[str, Any]:
        """Door contact."""
        return self.send("door", open=is_open, ts=self.clock())

    def heartbeat(self, uptime_s: float = 3600) -> dict[str, Any]:
        """The once-a-minute sign of life supervision expects."""
        return self.send("heartbeat", uptime_s=uptime_s, rssi=-61)

    def accel(self, samples: list[list[float]], rate_hz: float = 50, unit: str = "g") -> dict[str, Any]:
        """One chunk of a wearable's acceleration stream."""
        return self.send("accel", t0=self.clock(), rate_hz=rate_hz, unit=unit, samples=samples)
