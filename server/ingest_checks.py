"""What an uplink event must be before it is stored: valid fields, believable times, JSON PostgreSQL takes."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

from anxin import protocol

MAX_SKEW = timedelta(minutes=5)
MAX_UPLINK_BYTES = protocol.MAX_UPLINK_BYTES  # beyond this an uplink message is dead-lettered
MAX_ALARM_MESSAGE = 500  # characters of an alarm's message the server keeps (a gateway writes < 100)
MAX_DEVICE_NAME = 64  # characters of a device name


def corrected_time(ts: float, batch: protocol.UplinkBatch, received: datetime) -> tuple[datetime, bool]:
    """The event time, shifted by the gateway's clock error when its clock is not to be trusted.

    A time that is no time at all (NaN, beyond year 9999) or still to come becomes the arrival time:
    the event is kept, and nothing downstream (messages, escalation order) sees an impossible date.
    """
    try:
        at = datetime.fromtimestamp(ts, timezone.utc)
        if batch.sent_at <= 0:
            at, corrected = at, False
        else:
            skew = received - datetime.fromtimestamp(batch.sent_at, timezone.utc)
            at, corrected = (at, False) if batch.clock_synced and abs(skew) <= MAX_SKEW else (at + skew, True)
    except (OverflowError, ValueError, OSError):
        return received, True
    return (received, True) if at > received + MAX_SKEW else (at, corrected)


def measured_time(body: dict[str, Any], at: datetime, received: datetime) -> datetime:
    """When a reading was taken: the monitor's `measured_at` (a memory synced later is old), else the event time.

    A naive, unreadable or future (beyond the allowed skew) `measured_at` is not trusted.
    """
    raw = body.get("measured_at")
    if not isinstance(raw, str):
        return at
    try:
        measured = datetime.fromisoformat(raw)
    except ValueError:
        return at
    if measured.tzinfo is None or measured > received + MAX_SKEW:
        return at
    return measured.astimezone(timezone.utc)


def validate(ev: protocol.UplinkEvent) -> str | None:
    body = ev.body
    if ev.lane == "alarm" and not isinstance(body.get("type"), str):
        return "alarm without a type"
    if ev.lane == "reading":
        values = body.get("values")
        if not isinstance(body.get("metric"), str) or not isinstance(values, dict):
            return "reading without metric or values"
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                   for v in values.values()):
            return "reading with non-numeric values"
        if len(body["metric"]) > 32 or "\x00" in body["metric"]:
            return "reading with a metric name over 32 characters"
    if ev.lane == "gap":  # read back by the cumulative ack inside the same transaction: must be pairs of ints
        ranges = body.get("ranges", [])
        if not isinstance(ranges, list) or not all(
                isinstance(r, list) and len(r) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in r)
                for r in ranges):
            return "gap record whose ranges are not pairs of sequence numbers"
    return None


def capped_alarm(body: dict[str, Any]) -> dict[str, Any]:
    """An alarm body with its message and device name cut to size (the alarm itself is never refused)."""
    message, device = body.get("message"), body.get("device")
    if isinstance(message, str) and len(message) > MAX_ALARM_MESSAGE:
        body = {**body, "message": message[:MAX_ALARM_MESSAGE] + "…",
                "truncated": f"message of {len(message)} characters cut to {MAX_ALARM_MESSAGE}"}
    if isinstance(device, str) and len(device) > MAX_DEVICE_NAME:
        body = {**body, "device": device[:MAX_DEVICE_NAME],
                "truncated": f"device name of {len(device)} characters cut to {MAX_DEVICE_NAME}"}
    return body


def reading_flags(raw: Any) -> list[str]:
    """A reading's flags as the strings they should be (anything else, NaN included, as its text)."""
    if not raw:
        return []
    if not isinstance(raw, list):
        raw = [raw]
    return [f.replace("\x00", "") if isinstance(f, str) else str(f) for f in raw]


def json_safe(value: Any) -> Any:
    """The value as JSON PostgreSQL accepts: NaN and infinities (Python's json writes them) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value
