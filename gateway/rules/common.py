"""Small pure helpers the rules share: what counts as activity, and local time of day."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from gateway.model import Action, Alarm, AlarmChange, DeviceEvent, EventKind, Reading, Severity

# Anything that shows a person moved about the home: a sensor saw them, a door moved, a button was
# pressed, or they took a measurement.
ACTIVITY_KINDS = frozenset(
    {
        EventKind.MOTION,
        EventKind.DOOR_OPEN,
        EventKind.DOOR_CLOSED,
        EventKind.CHECKIN,
        EventKind.SOS,
        EventKind.SOS_CANCEL,
        EventKind.FINE,
        EventKind.SERVICE,
    }
)
# A resident's "cancel": a zigbee cancel button, or the Pi's "cancel / I'm fine" button.
CANCEL_KINDS = frozenset({EventKind.SOS_CANCEL, EventKind.FINE})


def is_activity(item: object) -> bool:
    """True when the input shows the resident moving or acting."""
    if isinstance(item, DeviceEvent):
        return item.kind in ACTIVITY_KINDS
    return isinstance(item, Reading) and item.metric == "blood_pressure"


AWAY_RETURN_S = 15 * 60  # motion this long after "away" was set means the resident is home again


def returns_home(item: object, away_since: float, t: float) -> bool:
    """Motion well after away mode was set: the resident came home and forgot the switch."""
    motion = isinstance(item, DeviceEvent) and item.kind == EventKind.MOTION
    return motion and t - away_since >= AWAY_RETURN_S


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


def late_cancel(type_: str, message: str, device: str) -> tuple[list[Alarm], list[Action]]:
    """A cancel after the alarm went out: never a retraction (help may be on the way), but staff learn
    the resident says they are fine, and the home hears that the alarm stays."""
    alarm = Alarm(type_, Severity.EMERGENCY, message, device, AlarmChange.UPDATE, {"late_cancel": True})
    return [alarm], [Action("say", "sos_cancel_late", device)]
