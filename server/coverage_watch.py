"""The desk worker's periodic coverage check: a resident newly exposed (risk 0 or 1: an alarm would reach
nobody, or the SOS button / a caregiver's channel / the supervisor is missing) raises one technical
alarm to staff; it clears itself when the gap is closed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.alarms import ACTIVE, clear_system_alarm, raise_system_alarm
from server.coverage import Gap
from server.coverage_facts import coverage_now
from server.db.models import Alarm, Gateway, Resident

log = logging.getLogger(__name__)

COVERAGE_ALARM = "coverage_gap"
ALARM_RISK = 1  # gaps this bad or worse raise an alarm; the rest wait on the page


@dataclass
class CoverageWatch:
    """Runs every `every`; the first run waits one interval, so homes that are starting have time to connect."""

    every: timedelta = timedelta(minutes=5)
    silent_after: timedelta = timedelta(hours=6)
    _next: datetime | None = field(default=None, repr=False)

    def due(self, now: datetime) -> bool:
        """Whether a check is owed at `now` (and schedule the next one)."""
        if self._next is None:
            self._next = now + self.every
            return False
        if now < self._next:
            return False
        self._next = now + self.every
        return True

    def check(self, session: Session, now: datetime) -> int:
        """Raise and clear coverage alarms (caller commits); returns how many changed."""
        worst: dict[str, list[Gap]] = {}
        for gap in coverage_now(session, now, self.silent_after).gaps:
            if gap.resident and gap.risk <= ALARM_RISK:
                worst.setdefault(gap.resident, []).append(gap)
        changed = 0
        residents = {r.code: r for r in session.scalars(select(Resident))}
        for code, gaps in worst.items():
            resident = residents[code]
            gateway = session.scalars(select(Gateway.id).where(Gateway.resident_id == resident.id)).first()
            kinds = sorted({g.kind for g in gaps})
            alarm = raise_system_alarm(
                session,
                gateway or f"resident:{code}",
                resident.id,
                COVERAGE_ALARM,
                "保障缺口 / coverage gap: " + ", ".join(kinds),
                now,
                gaps=kinds,
            )
            if alarm is not None:
                changed += 1
                log.warning("resident %s is exposed: %s", code, ", ".join(kinds))
        for alarm in session.scalars(select(Alarm).where(Alarm.type == COVERAGE_ALARM, Alarm.status.in_(ACTIVE))):
            owner = next((c for c, r in residents.items() if r.id == alarm.resident_id), None)
            if owner not in worst:
                clear_system_alarm(session, alarm, now, "the coverage gap was closed")
                changed += 1
        return changed
