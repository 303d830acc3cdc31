"""Routes a message from the home's local MQTT bus to the device family that understands it."""

from __future__ import annotations

from collections.abc import Callable

from gateway.config import DeviceConfig, GatewaySettings
from gateway.devices import native, zigbee2mqtt
from gateway.errors import ParseError
from gateway.model import DeviceMessage

MqttParser = Callable[[str, bytes, DeviceConfig | None], list[DeviceMessage]]

# topic prefix -> (subscription filter, parser, topic level that holds the device name)
FAMILIES: dict[str, tuple[str, MqttParser, int]] = {
    zigbee2mqtt.BASE + "/": (zigbee2mqtt.BASE + "/#", zigbee2mqtt.parse, 1),
    # `#`, not `+`: a device publishing on a sub-topic is told so (and counted), not silently unheard
    native.BASE + "/": (native.BASE + "/#", native.parse, 2),
}


def subscriptions() -> list[tuple[str, int]]:
    """The local-bus topic filters the gateway listens to."""
    return [(flt, 1) for flt, _, _ in FAMILIES.values()]


def device_name(topic: str) -> str:
    """The device name a topic is about, at the level its family puts it."""
    parts = topic.split("/")
    for prefix, (_flt, _parser, level) in FAMILIES.items():
        if topic.startswith(prefix):
            return parts[level] if len(parts) > level else ""
    return parts[1] if len(parts) > 1 else ""


class Router:
    """Finds the parser and the configured device for each local topic."""

    def __init__(self, settings: GatewaySettings) -> None:
        self._devices = {d.name: d for d in settings.devices}

    def parse(self, topic: str, payload: bytes) -> list[DeviceMessage]:
        """Typed messages for one local MQTT message; raises ParseError with a reason."""
        for prefix, (_flt, parser, level) in FAMILIES.items():
            if topic.startswith(prefix):
                parts = topic.split("/")
                name = parts[level] if len(parts) > level else ""
                return parser(topic, payload, self._devices.get(name))
        raise ParseError(f"no device family for topic {topic!r}")
