"""Keys a known device sends that the gateway does not understand: counted per device, reported rarely.

A real device's firmware or a new bridge may send what no parser reads (`systolic` from a Zigbee
blood-pressure bridge before it was supported, a sensor's `pressure`). That must not vanish: each
such message is counted, and the count is reported to the server (and the log) when a device shows
a key for the first time and then at most once per `every_s`, so a chatty device cannot flood the
uplink. Pure: the caller passes `now` and forwards the reports.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from gateway.model import DeviceEvent, EventKind

HOUR = 3600.0


@dataclass
class DeviceUnknowns:
    """What one device sent that was not understood, since the gateway started."""

    messages: int = 0
    keys: Counter[str] = field(default_factory=Counter)
    reported_at: float | None = None


@dataclass
class UnknownKeyLedger:
    """Counts UNKNOWN_KEYS events per device and decides when to report them."""

    every_s: float = HOUR
    devices: dict[str, DeviceUnknowns] = field(default_factory=dict)

    def note(self, event: DeviceEvent, now: float) -> list[DeviceEvent]:
        """Count one message's unknown keys; returns the report to forward, if one is due."""
        raw = event.detail.get("keys", ())
        keys = [str(k) for k in raw] if isinstance(raw, (list, tuple)) else []
        seen = self.devices.setdefault(event.device, DeviceUnknowns())
        new_key = any(k not in seen.keys for k in keys)
        seen.messages += 1
        seen.keys.update(keys)
        due = seen.reported_at is None or now - seen.reported_at >= self.every_s
        if not (new_key or due):
            return []
        seen.reported_at = now
        return [
            DeviceEvent(
                event.device,
                EventKind.UNKNOWN_KEYS,
                detail={"keys": dict(sorted(seen.keys.items())), "messages": seen.messages},
            )
        ]

    def total(self) -> int:
        """Messages with unknown keys from every device."""
        return sum(d.messages for d in self.devices.values())
