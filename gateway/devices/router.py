"""Routes a message from the home's local MQTT bus to the device family that understands it."""

from __future__ import annotations

from typing import Callable

from gateway.config import DeviceConfig, GatewaySettings
from gateway.devices import zigbee2mqtt
from gateway.errors import ParseError
from gateway.model import DeviceMessage

MqttParser = Callable[[str, bytes, DeviceConfig | None], list[DeviceMessage]]

# topic prefix -> (subscription filter, parser, how to find the device name in the topic)
FAMILIES: dict[str, tuple[str, MqttParser]] = {
    zigbee2mqtt.BASE + "/": (zigbee2mqtt.BASE + "/#", zigbee2mqtt.parse),
}


def subscriptions() -> list[tuple[str, int]]:
    """The local-bus topic filters the gateway listens to."""
    return [(flt, 1) for flt, _ in FAMILIES.values()]


def device_name(topic: str) -> str:
    """The device name a topic is about (second level for every family we know)."""
    parts = topic.split("/")
    return parts[1] if len(parts) > 1 else ""


class Router:
    """Finds the parser and the configured device for each local topic."""

    def __init__(self, settings: GatewaySettings) -> None:
        self._devices = {d.name: d for d in settings.devices}

    def parse(self, topic: str, payload: bytes) -> list[DeviceMessage]:
        """Typed messages for one local MQTT message; raises ParseError with a reason."""
        for prefix, (_flt, parser) in FAMILIES.items():
            if topic.startswith(prefix):
                return parser(topic, payload, self._devices.get(device_name(topic)))
        raise ParseError(f"no device family for topic {topic!r}")
