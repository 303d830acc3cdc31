"""Devices that speak MQTT on a home's local bus, publishing exactly what the real ones publish."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Publish = Callable[[str, bytes], object]

# What each SOS model publishes when pressed (zigbee2mqtt converters' output).
SOS_PAYLOADS: dict[str, dict[str, Any]] = {
    "TS0215A_sos": {"action": "emergency"},
    "TS0601_sos": {"action": "emergency"},
    "ZG-101Z": {"action": "sos"},
    "HS1EB": {"action": "single"},
    "SE21": {"action": "single"},
    "SEB01ZB": {"sos": True, "tamper": False, "battery_low": False},
}


@dataclass
class Z2MDevice:
    """A zigbee2mqtt device: publishes its state on `zigbee2mqtt/<name>`."""

    name: str
    model: str
    publish: Publish
    battery: int = 91
    linkquality: int = 120

    @property
    def topic(self) -> str:
        """The state topic zigbee2mqtt uses for this device."""
        return f"zigbee2mqtt/{self.name}"

    def send(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Publish a state message with battery and link quality, like zigbee2mqtt does."""
        full = {**doc, "battery": self.battery, "linkquality": self.linkquality}
        self.publish(self.topic, json.dumps(full).encode())
        return full

    def availability(self, online: bool) -> None:
        """Publish availability the way zigbee2mqtt ≥ 1.x does."""
        self.publish(f"{self.topic}/availability", json.dumps({"state": "online" if online else "offline"}).encode())


class SosButton(Z2MDevice):
    """An SOS button of one of the supported models."""

    def press(self) -> dict[str, Any]:
        """Press it: publish the model's SOS report."""
        return self.send(dict(SOS_PAYLOADS.get(self.model, {"action": "emergency"})))


class FallRadar(Z2MDevice):
    """A fall radar: Tuya MIR-HE200-TY (`fall_down_status`) or OWON FDS315 (`status`)."""

    def fall(self, state: str = "fall") -> dict[str, Any]:
        """Report a fall state (`fall`, `maybe_fall`, `none`; OWON: `falling`, `low_posture`, ...)."""
        if self.model == "FDS315":
            owon = {"fall": "falling", "none": "none"}.get(state, state)
            return self.send({"status": owon})
        return self.send({"fall_down_status": state, "presence": True})


class Sensor(Z2MDevice):
    """Motion (`occupancy`), door contact (`contact`) or temperature/humidity, as zigbee2mqtt reports them."""

    def motion(self, occupied: bool = True) -> dict[str, Any]:
        """Motion sensor report."""
        return self.send({"occupancy": occupied, "illuminance": 120})

    def door(self, is_open: bool) -> dict[str, Any]:
        """Door contact report: zigbee2mqtt's `contact` is true when closed."""
        return self.send({"contact": not is_open})

    def climate(self, temperature: float, humidity: float) -> dict[str, Any]:
        """Temperature and humidity report."""
        return self.send({"temperature": temperature, "humidity": humidity, "pressure": 1012})

    def drain(self, battery: int) -> dict[str, Any]:
        """The battery runs down: the next report carries the new level (and `battery_low`)."""
        self.battery = battery
        return self.send({"battery_low": battery < 20})


def bridge_state(publish: Publish, online: bool) -> None:
    """zigbee2mqtt's bridge going on- or offline (retained, as zigbee2mqtt publishes it)."""
    publish("zigbee2mqtt/bridge/state", json.dumps({"state": "online" if online else "offline"}).encode())
