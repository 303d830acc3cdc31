"""What an uplink event must be before it is stored: a body that decodes, believable times, JSON PostgreSQL takes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from anxin import protocol
from anxin.protocol import ReadingBody

MAX_SKEW = timedelta(minutes=5)
MAX_UPLINK_BYTES = protocol.MAX_UPLINK_BYTES  # beyond this an uplink message is dead-lettered
MAX_ALARM_MESSAGE = 500  # characters of an alarm's message the server keeps (a gateway writes < 100)
MAX_DEVICE_NAME = 64  # characters of a device name
MAX_METRIC = 32  # characters of a metric name (the `readings.metric` column)


def corrected_time(ts: float, batch: protocol.UplinkBatch, received: datetime) -> tuple[datetime, bool]:
    """The event time, shifted by the gateway's clock error when its clock is not to be trusted.

    A time that is no time at all (NaN, beyond year 9999) or still to come becomes the arrival time:
    the event is kept, and nothing downstream (messages, escalation order) sees an impossible date.
    """
    try:
        at = datetime.fromtimestamp(ts, UTC)
        if batch.sent_at <= 0:
            at, corrected = at, False
        else:
            skew = received - datetime.fromtimestamp(batch.sent_at, UTC)
            at, corrected = (at, False) if batch.clock_synced and abs(skew) <= MAX_SKEW else (at + skew, True)
    except (OverflowError, ValueError, OSError):
        return received, True
    return (received, True) if at > received + MAX_SKEW else (at, corrected)


def measured_time(reading: ReadingBody | Mapping[str, Any], at: datetime, received: datetime) -> datetime:
    """When a reading was taken: the monitor's `measured_at` (a memory synced later is old), else the event time.

    A naive, unreadable or future (beyond the allowed skew) `measured_at` is not trusted.
    """
    raw = reading.measured_at if isinstance(reading, ReadingBody) else reading.get("measured_at")
    if not isinstance(raw, str):
        return at
    try:
        measured = datetime.fromisoformat(raw)
    except ValueError:
        return at
    if measured.tzinfo is None or measured > received + MAX_SKEW:
        return at
    return measured.astimezone(UTC)


def sanitized(ev: protocol.UplinkEvent) -> protocol.UplinkEvent:
    """The event as it is stored: JSON PostgreSQL takes, an alarm's text cut to size (never refused for it)."""
    if ev.lane != "reading":  # one NaN must not fail the whole drain (a reading's values are checked instead)
        ev = replace(ev, body=json_safe(ev.body))
    if ev.lane == "alarm":
        ev = replace(ev, body=capped_alarm(ev.body))
    return ev


def decoded(ev: protocol.UplinkEvent) -> protocol.Body:
    """The event's typed body; ProtocolError with the reason it is refused (dead-lettered) under.

    The decode (anxin/protocol/bodies.py) refuses what the format does not allow; here is what only the
    server knows: how long its columns are.
    """
    body = protocol.decode_body(ev.lane, ev.body)
    if isinstance(body, ReadingBody) and (len(body.metric) > MAX_METRIC or "\x00" in body.metric):
        raise protocol.ProtocolError(f"reading with a metric name over {MAX_METRIC} characters")
    return body


def capped_alarm(body: dict[str, Any]) -> dict[str, Any]:
    """An alarm body with its message and device name cut to size (the alarm itself is never refused)."""
    message, device = body.get("message"), body.get("device")
    if isinstance(message, str) and len(message) > MAX_ALARM_MESSAGE:
        body = {
            **body,
            "message": message[:MAX_ALARM_MESSAGE] + "…",
            "truncated": f"message of {len(message)} characters cut to {MAX_ALARM_MESSAGE}",
        }
    if isinstance(device, str) and len(device) > MAX_DEVICE_NAME:
        body = {
            **body,
            "device": device[:MAX_DEVICE_NAME],
            "truncated": f"device name of {len(device)} characters cut to {MAX_DEVICE_NAME}",
        }
    return body


def json_safe(value: Any) -> Any:
    """The value as JSON PostgreSQL accepts: NaN and infinities (Python's json writes them) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value
