"""Service figures: the share of alarms acknowledged within 60 s and 180 s, per day and per person."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

# The telecare standard's call-handling targets: 97.5 % within 60 s and 99 % within 180 s.
FAST, SLOW = timedelta(seconds=60), timedelta(seconds=180)
TARGET_FAST, TARGET_SLOW = 0.975, 0.99


@dataclass(frozen=True, slots=True)
class AckSample:
    """One alarm as the figures see it."""

    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


@dataclass(frozen=True, slots=True)
class Figure:
    """Counts for one day or one person; shares are None when nothing was counted."""

    key: str
    alarms: int
    within_fast: int
    within_slow: int
    unanswered: int

    @property
    def share_fast(self) -> float | None:
        """Share acknowledged within 60 s."""
        return self.within_fast / self.alarms if self.alarms else None

    @property
    def share_slow(self) -> float | None:
        """Share acknowledged within 180 s."""
        return self.within_slow / self.alarms if self.alarms else None

    @property
    def meets_targets(self) -> bool | None:
        """Both targets met (None when there is nothing to judge)."""
        if not self.alarms:
            return None
        return (self.share_fast or 0) >= TARGET_FAST and (self.share_slow or 0) >= TARGET_SLOW


@dataclass(frozen=True, slots=True)
class ServiceFigures:
    """Per local day (newest first), per person who acknowledged (by name), and in total."""

    by_day: list[Figure]
    by_person: list[Figure]
    total: Figure
    pending: int


def _wait(sample: AckSample, now: datetime) -> timedelta | None:
    """How long the alarm waited, or None while it is unanswered and still within 180 s."""
    if sample.acknowledged_at is not None:
        return max(sample.acknowledged_at - sample.raised_at, timedelta(0))
    waited = now - sample.raised_at
    return waited if waited > SLOW else None


def _figure(key: str, waits: list[tuple[timedelta, bool]]) -> Figure:
    return Figure(
        key=key,
        alarms=len(waits),
        within_fast=sum(1 for w, answered in waits if answered and w <= FAST),
        within_slow=sum(1 for w, answered in waits if answered and w <= SLOW),
        unanswered=sum(1 for _w, answered in waits if not answered),
    )


def compute(samples: Iterable[AckSample], now: datetime, tz: ZoneInfo) -> ServiceFigures:
    """Figures from alarms; an unanswered alarm counts as late once 180 s have passed, pending before."""
    days: dict[date, list[tuple[timedelta, bool]]] = defaultdict(list)
    people: dict[str, list[tuple[timedelta, bool]]] = defaultdict(list)
    everything: list[tuple[timedelta, bool]] = []
    pending = 0
    for sample in samples:
        wait = _wait(sample, now)
        if wait is None:
            pending += 1
            continue
        answered = sample.acknowledged_at is not None
        days[sample.raised_at.astimezone(tz).date()].append((wait, answered))
        everything.append((wait, answered))
        if answered:
            people[sample.acknowledged_by or "?"].append((wait, answered))
    return ServiceFigures(
        by_day=[_figure(d.isoformat(), days[d]) for d in sorted(days, reverse=True)],
        by_person=[_figure(p, people[p]) for p in sorted(people, key=lambda p: (-len(people[p]), p))],
        total=_figure("total", everything),
        pending=pending,
    )
