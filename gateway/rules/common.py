"""Small pure helpers the rules share: what counts as activity, and local time of day."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from gateway.model import DeviceEvent, EventKind, Reading

# Anything that shows a person moved about the home: a sensor saw them, a door moved, a button was
# pressed, or they took a measurement.
ACTIVITY_KINDS = frozenset({
    EventKind.MOTION, EventKind.DOOR_OPEN, EventKind.DOOR_CLOSED, EventKind.CHECKIN,
    EventKind.SOS, EventKind.SOS_CANCEL,
})


def is_activity(item: object) -> bool:
    """True when the input shows the resident moving or acting."""
    if isinstance(item, DeviceEvent):
        return item.kind in ACTIVITY_KINDS
    return isinstance(item, Reading) and item.metric == "blood_pressure"


def local(now: datetime, tz: ZoneInfo) -> datetime:
    """The home's wall-clock time."""
    return now.astimezone(tz)


def in_window(t: time, start: time, end: time) -> bool:
    """Is t within [start, end), where the window may wrap past midnight (22:00-06:00)."""
    if start <= end:
        return start <= t < end
    return t >= start or t < end


def at(day: date, t: time, tz: ZoneInfo) -> float:
    """Epoch seconds of a local wall-clock time on a local date."""
    return datetime.combine(day, t, tz).timestamp()
