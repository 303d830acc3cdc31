"""Contact plans: an RFC 5545 recurrence per helper, what is due when, and follow-ups after emergencies (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from server.care.errors import InvalidRecord
from server.settings import CONTACT_DAYS_HIGH, CONTACT_DAYS_OTHER, CONTACT_DAYS_PRIORITY

LOCAL = ZoneInfo("Asia/Shanghai")  # China Standard Time has no daylight saving
CHANNELS = ("visit", "phone", "video")
ROLES = ("young_cadre", "volunteer", "relative", "community_worker")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True, slots=True)
class Intervals:
    """Days between contacts per tier (settings; the 探访关爱 policies in docs/residents.md)."""

    high: int = CONTACT_DAYS_HIGH
    priority: int = CONTACT_DAYS_PRIORITY
    other: int = CONTACT_DAYS_OTHER

    def days(self, tier: str) -> int:
        """The interval for a tier."""
        return {"high": self.high, "priority": self.priority, "other": self.other}[tier]


def default_rule(tier: str, start: date) -> str:
    """The RRULE a new plan gets: weekly, monthly or quarterly on the start's weekday or day of month."""
    if tier == "high":
        return f"FREQ=WEEKLY;BYDAY={_WEEKDAYS[start.weekday()]}"
    # From the 29th on, the last day of the month: otherwise short months would be skipped (RFC 5545).
    day = -1 if start.day >= 29 else start.day
    interval = 1 if tier == "priority" else 3
    return f"FREQ=MONTHLY;INTERVAL={interval};BYMONTHDAY={day}"


def check_rule(rule: str, start: date) -> str:
    """The rule, tidied, if dateutil can expand it; raises InvalidRecord otherwise."""
    rule = rule.strip().removeprefix("RRULE:")
    if not rule or "\n" in rule or "DTSTART" in rule.upper():
        raise InvalidRecord("give one RRULE line such as FREQ=WEEKLY;BYDAY=MO (the start date is separate)")
    # Contacts are planned by the day; hourly or finer rules would also make every expansion slow.
    if not any(f"FREQ={f}" in rule.upper() for f in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")):
        raise InvalidRecord("a contact plan repeats DAILY, WEEKLY, MONTHLY or YEARLY")
    try:
        rrulestr(rule, dtstart=datetime.combine(start, time()))
    except (ValueError, TypeError) as exc:
        raise InvalidRecord(f"not an RFC 5545 recurrence rule: {rule!r} ({exc})") from exc
    return rule


def occurrences(rule: str, start: date, after: date, until: date) -> list[date]:
    """Planned dates from `after` to `until`, both included."""
    rr = rrulestr(rule, dtstart=datetime.combine(start, time()))
    lo = datetime.combine(max(after, start), time())
    return [d.date() for d in rr.between(lo, datetime.combine(until, time()), inc=True)]


def next_due(rule: str, start: date, last_contact: date | None) -> date | None:
    """The next planned date not yet covered; a contact covers the first planned date on or after it."""
    rr = rrulestr(rule, dtstart=datetime.combine(start, time()))
    first = rr.after(datetime.combine(start, time()), inc=True)
    if last_contact is None or first is None or last_contact < start:  # a contact before the plan covers nothing
        return first.date() if first else None
    covered = rr.after(datetime.combine(last_contact, time()), inc=True)
    if covered is None:
        return None
    following = rr.after(covered, inc=False)
    return following.date() if following else None


def to_utc(at: datetime) -> datetime:
    """An aware UTC time (naive means UTC): SQLite keeps no offset, so every stored time is UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def local_date(at: datetime) -> date:
    """The calendar day staff and helpers see."""
    return at.astimezone(LOCAL).date()


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A visit owed after an emergency."""

    alarm_id: int
    raised_at: datetime
    due_at: datetime


def follow_ups(emergencies: list[tuple[int, datetime]], last_visit: datetime | None, hours: int) -> list[FollowUp]:
    """One visit within `hours` after each emergency that no home visit has followed yet."""
    return [
        FollowUp(alarm_id, raised, raised + timedelta(hours=hours))
        for alarm_id, raised in emergencies
        if last_visit is None or last_visit < raised
    ]


def parse_channel(channel: str) -> str:
    """A known channel, or InvalidRecord."""
    if channel not in CHANNELS:
        raise InvalidRecord(f"channel is one of {', '.join(CHANNELS)}")
    return channel
