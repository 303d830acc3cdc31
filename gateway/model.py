"""Typed values that flow through the gateway: what devices say, what rules decide."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """Things a device reports that are not a measurement."""

    SOS = "sos"
    SOS_CANCEL = "sos_cancel"
    CHECKIN = "checkin"
    SERVICE = "service_request"  # a non-emergency "please call me about a service" press (never an SOS)
    FINE = "fine"  # the Pi's "cancel / I'm fine" button: cancels what is pending, answers the check-in
    FALL = "fall"
    MAYBE_FALL = "maybe_fall"
    LOW_POSTURE = "low_posture"
    MOTION = "motion"
    NO_MOTION = "no_motion"
    DOOR_OPEN = "door_open"
    DOOR_CLOSED = "door_closed"
    TAMPER = "tamper"
    BATTERY_LOW = "battery_low"
    BATTERY_OK = "battery_ok"
    DEVICE_ONLINE = "device_online"
    DEVICE_OFFLINE = "device_offline"
    BRIDGE_ONLINE = "bridge_online"
    BRIDGE_OFFLINE = "bridge_offline"
    UNKNOWN_DEVICE = "unknown_device"
    UNKNOWN_KEYS = "unknown_keys"  # a known device sent keys the gateway does not understand
    HEARTBEAT = "heartbeat"


class Severity(StrEnum):
    """How urgent an alarm is; ordered from most to least urgent."""

    EMERGENCY = "emergency"
    URGENT = "urgent"
    WARNING = "warning"
    TECHNICAL = "technical"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Smaller is more urgent; used to order queues."""
        return list(Severity).index(self)


@dataclass(frozen=True, slots=True)
class Reading:
    """A measurement from a device, in SI units (mmHg for blood pressure)."""

    device: str
    metric: str
    values: Mapping[str, float]
    ts: datetime | None = None
    flags: frozenset[str] = frozenset()
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """Something a device reported: a press, a fall, a door, a status change."""

    device: str
    kind: EventKind
    ts: datetime | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AccelChunk:
    """A run of evenly spaced acceleration samples from a wearable, in g (1 g = 9.80665 m/s²).

    Produced by the native `accel` message (docs/protocol.md); consumed by the fall detector.
    `t0` is the epoch time of the first sample; sample i was taken at t0 + i / rate_hz.
    """

    device: str
    t0: float
    rate_hz: float
    samples: tuple[tuple[float, float, float], ...]


DeviceMessage = Reading | DeviceEvent | AccelChunk


class AlarmChange(StrEnum):
    """What a rule wants done with the alarm identified by (resident, type)."""

    RAISE = "raise"
    UPDATE = "update"
    CANCEL = "cancel"
    CLEAR = "clear"


@dataclass(frozen=True, slots=True)
class Alarm:
    """A rule's decision that a person must look at something."""

    type: str
    severity: Severity
    message: str
    device: str | None = None
    change: AlarmChange = AlarmChange.RAISE
    detail: Mapping[str, Any] = field(default_factory=dict)


class LedState(StrEnum):
    """What the home's status light shows: a state, never a sentence (docs/home.md has the patterns)."""

    OFF = "off"
    ASKING = "asking"  # a question is pending (fall prompt, check-in): press the button
    ALARM_SENT = "alarm_sent"  # the alarm has gone out; waiting for someone to answer
    HELP_COMING = "help_coming"  # a person acknowledged: help is on the way
    OFFLINE = "offline"  # the gateway cannot reach the server


@dataclass(frozen=True, slots=True)
class Action:
    """Something the home itself does at once: speak, light an LED, sound a siren.

    For `led` the message key is a `LedState` value; for `say` it is a key of gateway/rules/messages.py."""

    kind: str
    message_key: str
    device: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
