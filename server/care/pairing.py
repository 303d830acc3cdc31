"""Helpers (结对帮扶) and their contact plans with a resident."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.care import audit, categories, plans
from server.care.errors import InvalidRecord
from server.care.profile import profile_row
from server.care.schemas import HelperPlanIn
from server.db.models import Resident
from server.db.models_care import Helper, HelperPlan


def helper_by_code(session: Session, code: str) -> Helper | None:
    """The helper with this code, if any."""
    return session.scalars(select(Helper).where(Helper.code == code)).first()


def pair(session: Session, resident: Resident, body: HelperPlanIn, actor: str, now: datetime) -> HelperPlan:
    """Pair a helper (created if new) with the resident; the plan defaults from the resident's categories."""
    helper = helper_by_code(session, body.helper_code)
    if helper is None:
        if not body.name or not body.role:
            raise InvalidRecord(f"helper {body.helper_code!r} is new: give their name and role")
        helper = Helper(code=body.helper_code, name=body.name, phone=body.phone, role=body.role)
        session.add(helper)
        session.flush()
    start = body.starts_on or plans.local_date(now)
    profile = profile_row(session, resident)
    tier = categories.tier(list(resident.care_categories or []), profile.grade)
    rule = plans.check_rule(body.rrule, start) if body.rrule else plans.default_rule(tier, start)
    plan = session.scalars(
        select(HelperPlan).where(HelperPlan.resident_id == resident.id, HelperPlan.helper_id == helper.id)
    ).first()
    if plan is None:
        plan = HelperPlan(resident_id=resident.id, helper_id=helper.id, created_by=actor, created_at=now)
        session.add(plan)
    plan.rrule, plan.starts_on, plan.channel = rule, start, body.channel
    session.flush()
    audit.record(
        session,
        actor,
        "helper_paired",
        resident.id,
        now,
        helper=helper.code,
        rrule=rule,
        starts_on=start.isoformat(),
        channel=body.channel,
    )
    return plan


def plans_of_resident(session: Session, resident_id: int) -> list[tuple[HelperPlan, Helper]]:
    """The resident's helpers and their plans."""
    rows = session.execute(
        select(HelperPlan, Helper)
        .join(Helper, Helper.id == HelperPlan.helper_id)
        .where(HelperPlan.resident_id == resident_id)
        .order_by(Helper.name)
    )
    return [(p, h) for p, h in rows]


def plans_of_helper(session: Session, helper_id: int) -> list[tuple[HelperPlan, Resident]]:
    """A helper's residents and the plan for each."""
    rows = session.execute(
        select(HelperPlan, Resident)
        .join(Resident, Resident.id == HelperPlan.resident_id)
        .where(HelperPlan.helper_id == helper_id)
        .order_by(Resident.code)
    )
    return [(p, r) for p, r in rows]


def plan_dates(plan: HelperPlan, after: date, until: date) -> list[date]:
    """The plan's dates in a window."""
    return plans.occurrences(plan.rrule, plan.starts_on, after, until)
