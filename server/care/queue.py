"""What is owed: planned contacts due or overdue, follow-ups after emergencies, and coverage by category."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.care import categories, plans
from server.care.schemas import DueOut
from server.db.models import Alarm, Resident, as_utc
from server.db.models_care import Contact, Helper, HelperPlan, ResidentProfile

# An emergency that turned out to be a pressed-by-mistake button or a test needs no visit.
_NO_VISIT_OUTCOMES = ("false_alarm", "test_passed")
_LOOKBACK = timedelta(days=30)


def _last_contacts(session: Session) -> dict[tuple[int, int | None], datetime]:
    rows = session.execute(
        select(Contact.resident_id, Contact.helper_id, func.max(Contact.at)).group_by(
            Contact.resident_id, Contact.helper_id
        )
    )
    return {(r, h): as_utc(at) for r, h, at in rows}


def _last_visits(session: Session) -> dict[int, datetime]:
    rows = session.execute(
        select(Contact.resident_id, func.max(Contact.at))
        .where(Contact.channel == "visit")
        .group_by(Contact.resident_id)
    )
    return {r: as_utc(at) for r, at in rows}


def follow_ups(
    session: Session, now: datetime, hours: int, resident_ids: Iterable[int] | None = None
) -> list[tuple[Resident, plans.FollowUp]]:
    """Visits owed after emergencies of the past 30 days that no home visit has followed."""
    q = select(Alarm.id, Alarm.raised_at, Alarm.resident_id).where(
        Alarm.severity == "emergency",
        Alarm.resident_id.is_not(None),
        Alarm.raised_at >= now - _LOOKBACK,
        (Alarm.outcome.is_(None)) | (Alarm.outcome.not_in(_NO_VISIT_OUTCOMES)),
    )
    if resident_ids is not None:
        q = q.where(Alarm.resident_id.in_(list(resident_ids)))
    by_resident: dict[int, list[tuple[int, datetime]]] = {}
    for alarm_id, raised, rid in session.execute(q):
        if rid is not None:  # the query asks for residents; this keeps the type checker sure of it
            by_resident.setdefault(rid, []).append((alarm_id, as_utc(raised)))
    visits = _last_visits(session)
    out = []
    for rid, emergencies in by_resident.items():
        resident = session.get(Resident, rid)
        if resident is not None:
            out += [(resident, f) for f in plans.follow_ups(emergencies, visits.get(rid), hours)]
    return out


def due(session: Session, now: datetime, followup_hours: int, helper_id: int | None = None) -> list[DueOut]:
    """Every contact owed (next planned date per helper plan, and follow-ups), soonest first."""
    today = plans.local_date(now)
    last = _last_contacts(session)
    q = (
        select(HelperPlan, Helper, Resident)
        .join(Helper, Helper.id == HelperPlan.helper_id)
        .join(Resident, Resident.id == HelperPlan.resident_id)
    )
    if helper_id is not None:
        q = q.where(HelperPlan.helper_id == helper_id)
    items: list[DueOut] = []
    resident_ids = set()
    for plan, helper, resident in session.execute(q):
        resident_ids.add(resident.id)
        seen = last.get((resident.id, helper.id))
        next_date = plans.next_due(plan.rrule, plan.starts_on, plans.local_date(seen) if seen else None)
        if next_date is not None:
            items.append(
                DueOut(
                    resident_code=resident.code,
                    resident_name=resident.name,
                    kind="plan",
                    helper_code=helper.code,
                    helper_name=helper.name,
                    channel=plan.channel,
                    due=next_date,
                    overdue=next_date < today,
                )
            )
    for resident, f in follow_ups(session, now, followup_hours, resident_ids if helper_id is not None else None):
        items.append(
            DueOut(
                resident_code=resident.code,
                resident_name=resident.name,
                kind="follow_up",
                helper_code=None,
                helper_name=None,
                channel="visit",
                due=plans.local_date(f.due_at),
                overdue=f.due_at < now,
                alarm_id=f.alarm_id,
            )
        )
    return sorted(items, key=lambda d: (d.due, d.kind != "follow_up", d.resident_code))


@dataclass(frozen=True, slots=True)
class Coverage:
    """Of the residents in a category, how many were reached within their plan's interval."""

    category: str
    residents: int
    reached: int

    @property
    def share(self) -> float:
        """Reached / residents (1.0 when the category is empty)."""
        return self.reached / self.residents if self.residents else 1.0


def coverage(session: Session, now: datetime, intervals: plans.Intervals) -> list[Coverage]:
    """Per category (and 'all'): share of residents contacted within their tier's interval."""
    last: dict[int, datetime] = {}
    for (rid, _helper), at in _last_contacts(session).items():
        last[rid] = max(at, last.get(rid, at))
    grades = dict(session.execute(select(ResidentProfile.resident_id, ResidentProfile.grade)).all())
    counts: dict[str, list[int]] = {c: [0, 0] for c in ("all", *categories.CATEGORIES)}
    for resident in session.scalars(select(Resident)):
        cats = list(resident.care_categories or [])
        days = intervals.days(categories.tier(cats, grades.get(resident.id)))
        reached = resident.id in last and now - last[resident.id] <= timedelta(days=days)
        for c in ("all", *[c for c in cats if c in counts]):
            counts[c][0] += 1
            counts[c][1] += int(reached)
    return [Coverage(c, n, r) for c, (n, r) in counts.items()]


def per_helper(items: list[DueOut], today: date) -> dict[str, dict[str, Any]]:
    """For each helper: name, plans, how many are due today and how many are overdue."""
    out: dict[str, dict[str, Any]] = {}
    for d in items:
        if d.kind == "plan" and d.helper_code:
            row = out.setdefault(d.helper_code, {"name": d.helper_name, "planned": 0, "due_today": 0, "overdue": 0})
            row["planned"] += 1
            row["due_today"] += int(d.due == today)
            row["overdue"] += int(d.overdue)
    return out
