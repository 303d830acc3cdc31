"""A measurement taken long before it arrived (a meter's memory uploaded on pairing or after weeks out of
range) is history for the doctor, not the resident's state now: the chronic rules do not alarm on it."""

from __future__ import annotations

from datetime import datetime

from gateway.model import Reading

STALE_AFTER_S = 3600.0


def stale(reading: Reading, now: datetime, max_age_s: float = STALE_AFTER_S) -> bool:
    """True when the reading says it was measured more than `max_age_s` before `now`."""
    return reading.ts is not None and (now - reading.ts).total_seconds() > max_age_s
