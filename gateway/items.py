"""What the gateway worker's queue carries: one small frozen type per kind of work, handled with `match`.

Transports and the uplink run on their own threads; their callbacks only build one of these and enqueue
it (gateway/service.py), so everything that decides runs on the worker's one thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from anxin import protocol
from anxin.mqtt import Delivery
from gateway.model import DeviceMessage


@dataclass(frozen=True, slots=True)
class LocalMessage:
    """A message from the home's local MQTT bus; `delivery` is acknowledged once it is handled and stored."""

    topic: str
    payload: bytes
    delivery: Delivery | None = None


@dataclass(frozen=True, slots=True)
class DeviceMessages:
    """Typed messages from a serial device or the Pi's own buttons (framed and parsed on their thread)."""

    messages: Sequence[DeviceMessage]


@dataclass(frozen=True, slots=True)
class BridgeChange:
    """A bridge the devices depend on (local broker, serial port) went down or came back."""

    bridge: str
    up: bool


@dataclass(frozen=True, slots=True)
class ServerCommand:
    """A command from the server, received by the uplink."""

    command: protocol.Command


@dataclass(frozen=True, slots=True)
class Tick:
    """A second has passed: retry parked alarms, supervise, let timer rules fire."""


@dataclass(frozen=True, slots=True)
class Stop:
    """Wakes the worker so it sees that it was asked to stop."""


WorkItem = LocalMessage | DeviceMessages | BridgeChange | ServerCommand | Tick | Stop
