"""Binds each configured serial port to its device family's stream decoder and to the gateway."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

import serial

from gateway.config import GatewaySettings, SerialPortConfig
from gateway.devices import ble_gatt
from gateway.devices.ble_bpm import BpmStream
from gateway.devices.rflink import RflinkStream
from gateway.model import DeviceMessage
from gateway.supervision import serial_bridge
from gateway.transports.serial_port import Opener, SerialTransport

log = logging.getLogger(__name__)


class Stream(Protocol):
    """A family's pure decoder for one port's byte stream."""

    def feed(self, data: bytes, now: float) -> list[DeviceMessage]:
        """Typed messages completed by these bytes."""

    def reset(self) -> None:
        """Drop a partial frame or line: the port went away."""


@dataclass
class SerialDevice:
    """One port: the transport that reads it and the stream that decodes it."""

    config: SerialPortConfig
    transport: SerialTransport
    stream: Stream


def stream_for(port: SerialPortConfig, settings: GatewaySettings) -> Stream | None:
    """The decoder for a port's family (None for families another part of the gateway owns)."""
    if port.family == "ble-bpm":
        return BpmStream(port.device or f"bpm:{port.port}", ZoneInfo(settings.timezone))
    if port.family == "ble-gatt":
        return ble_gatt.stream(port.device or f"ble:{port.port}", ZoneInfo(settings.timezone))
    if port.family == "rflink":
        return RflinkStream(settings.devices)
    return None


def build_serial_devices(
    settings: GatewaySettings,
    on_messages: Callable[[list[DeviceMessage]], None],
    on_bridge: Callable[[str, bool], None],
    clock: Callable[[], float] = time.time,
    opener: Opener = serial.serial_for_url,
) -> list[SerialDevice]:
    """A reader per device port in the settings; nothing is opened until each transport starts."""
    out: list[SerialDevice] = []
    for port in settings.serial:
        stream = stream_for(port, settings)
        if stream is None:
            continue
        bridge = serial_bridge(port.port)

        def on_bytes(data: bytes, s: Stream = stream) -> None:
            on_messages(s.feed(data, clock()))

        def on_state(up: bool, s: Stream = stream, b: str = bridge) -> None:
            if not up:
                s.reset()
            on_bridge(b, up)

        out.append(SerialDevice(port, SerialTransport(port.port, port.baudrate, on_bytes, on_state, opener), stream))
    return out
