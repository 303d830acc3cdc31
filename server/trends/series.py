"""Blood-pressure readings as numpy columns, with each reading's local day and time of day."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from server.trends.errors import UnknownTimezone

DEFAULT_TZ = "Asia/Shanghai"
EPOCH_DAY = date(1970, 1, 1).toordinal()

# Flags a monitor reports that make a reading less trustworthy (names as gateway/devices emit them); one bit each.
FLAGS: tuple[str, ...] = ("irregular_pulse", "body_movement", "cuff_too_loose", "improper_position")
FLAG_BIT = {name: 1 << i for i, name in enumerate(FLAGS)}
FLAG_BIT["cuff_loose"] = FLAG_BIT["cuff_too_loose"]  # the same status bit under its shorter name

# Local hours that count as a morning or an evening measurement (see docs/trends.md).
MORNING_HOURS = (4.0, 12.0)
EVENING_HOURS = (18.0, 24.0)
MORNING, EVENING, OTHER = 0, 1, 2
SESSION_NAMES = ("morning", "evening", "other")


def zone(name: str | None) -> ZoneInfo:
    """The resident's time zone, Asia/Shanghai when they have none."""
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimezone(f"unknown time zone {name!r}") from exc


@dataclass(frozen=True, eq=False)
class BPSeries:
    """One resident's readings in time order; every column has one entry per reading."""

    t: np.ndarray  # seconds since the epoch, UTC
    systolic: np.ndarray
    diastolic: np.ndarray
    pulse: np.ndarray  # NaN where the monitor gave none
    flags: np.ndarray  # uint8 bit set, see FLAG_BIT
    day: np.ndarray  # local calendar day as days since 1970-01-01
    hour: np.ndarray  # local time of day in hours, 0 <= hour < 24
    session: np.ndarray  # MORNING, EVENING or OTHER

    def __len__(self) -> int:
        return int(self.t.size)

    def select(self, mask: np.ndarray) -> BPSeries:
        """The readings where mask is true."""
        return BPSeries(*(getattr(self, f)[mask] for f in _FIELDS))

    def between_days(self, first: int, last: int) -> BPSeries:
        """The readings of local days first..last inclusive."""
        lo, hi = np.searchsorted(self.day, [first, last + 1])
        return BPSeries(*(getattr(self, f)[lo:hi] for f in _FIELDS))

    def flag_count(self, name: str) -> int:
        """How many readings carry the flag."""
        return int(np.count_nonzero(self.flags & FLAG_BIT[name]))


_FIELDS = ("t", "systolic", "diastolic", "pulse", "flags", "day", "hour", "session")


def day_number(d: date) -> int:
    """A calendar day as days since 1970-01-01."""
    return d.toordinal() - EPOCH_DAY


def day_date(n: int) -> date:
    """The inverse of day_number."""
    return date.fromordinal(int(n) + EPOCH_DAY)


def _utc_offsets(t: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """Seconds east of UTC at each instant; computed once per distinct offset span, not per reading."""
    if t.size == 0:
        return np.zeros(0)
    first, last = (datetime.fromtimestamp(float(x), tz).utcoffset() for x in (t[0], t[-1]))
    if first == last and _fixed_offset(tz, float(t[0]), float(t[-1])):
        return np.full(t.size, first.total_seconds() if first else 0.0)
    return np.array([_offset_s(float(x), tz) for x in t])


def _offset_s(at: float, tz: ZoneInfo) -> float:
    """Seconds east of UTC at one instant (an aware datetime always has an offset; 0 if it had none)."""
    offset = datetime.fromtimestamp(at, tz).utcoffset()
    return offset.total_seconds() if offset else 0.0


def _fixed_offset(tz: ZoneInfo, start: float, end: float) -> bool:
    """True when the zone keeps one offset between the two instants (checked every 30 days)."""
    offsets = {datetime.fromtimestamp(x, tz).utcoffset() for x in np.arange(start, end, 30 * 86400.0)}
    return len(offsets) <= 1


def build_series(
    t: np.ndarray, systolic: np.ndarray, diastolic: np.ndarray, pulse: np.ndarray, flags: np.ndarray, tz: ZoneInfo
) -> BPSeries:
    """Columns in any order → a series sorted by time with local day, hour and session."""
    order = np.argsort(t, kind="stable")
    t = np.asarray(t, dtype=np.float64)[order]
    local = t + _utc_offsets(t, tz)
    day = np.floor(local / 86400.0).astype(np.int64)
    hour = (local - day * 86400.0) / 3600.0
    session = np.full(t.size, OTHER, dtype=np.int8)
    session[(hour >= MORNING_HOURS[0]) & (hour < MORNING_HOURS[1])] = MORNING
    session[(hour >= EVENING_HOURS[0]) & (hour < EVENING_HOURS[1])] = EVENING
    return BPSeries(
        t,
        np.asarray(systolic, dtype=np.float64)[order],
        np.asarray(diastolic, dtype=np.float64)[order],
        np.asarray(pulse, dtype=np.float64)[order],
        np.asarray(flags, dtype=np.uint8)[order],
        day,
        hour,
        session,
    )


def flag_bits(flags: Iterable[str] | None) -> int:
    """The bit set of the known flags in a reading's flag list; unknown flags are ignored."""
    return sum(FLAG_BIT.get(f, 0) for f in set(flags or ()))


Row = tuple[datetime, float, float, "float | None", Sequence[str]]


def from_rows(rows: Iterable[Row], tz: ZoneInfo) -> BPSeries:
    """Series from (ts, systolic, diastolic, pulse, flags) rows; a naive ts is taken as UTC (SQLite's way)."""
    rows = list(rows)
    if not rows:
        return build_series(np.empty(0), np.empty(0), np.empty(0), np.empty(0), np.empty(0), tz)
    ts, sys_, dia, pul, fl = zip(*rows, strict=False)
    t = np.fromiter(
        ((x - _NAIVE_EPOCH).total_seconds() if x.tzinfo is None else x.timestamp() for x in ts),
        dtype=np.float64,
        count=len(rows),
    )
    pulse = np.array([np.nan if p is None else p for p in pul], dtype=np.float64)
    bits = np.fromiter((flag_bits(f) if f else 0 for f in fl), dtype=np.uint8, count=len(rows))
    return build_series(t, np.array(sys_, dtype=np.float64), np.array(dia, dtype=np.float64), pulse, bits, tz)


_NAIVE_EPOCH = datetime(1970, 1, 1)


def local_today(now: datetime, tz: ZoneInfo) -> int:
    """Today's local day number at the instant now."""
    return day_number(now.astimezone(tz).date())


def day_start_utc(day: int, tz: ZoneInfo) -> datetime:
    """The UTC instant a local day begins."""
    d = day_date(day)
    return datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(UTC)


def day_end_utc(day: int, tz: ZoneInfo) -> datetime:
    """The UTC instant a local day ends (the next one begins)."""
    return day_start_utc(day + 1, tz) - timedelta(0)
