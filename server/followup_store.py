"""Follow-up records in the database: add one (with the checks that need the previous visit), a resident's
history, and the schedule of who is due or overdue."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Resident
from server.db.models_followup import FollowUp
from server.errors import ServerError
from server.followup import CLASSIFICATION, Due, FollowUpIn, conditions_of, due, needs_referral

SIGNS = ("systolic", "diastolic", "weight_kg", "target_weight_kg", "bmi", "heart_rate", "pedal_pulse")
LIFESTYLE = (
    "cigarettes_per_day",
    "alcohol_liang_per_day",
    "exercise_times_per_week",
    "exercise_minutes",
    "salt",
    "staple_food_g_per_day",
    "psychological",
    "compliance",
)
TESTS = ("fasting_glucose_mmol_l", "hba1c_pct")


class FollowUpRejected(ServerError):
    """A follow-up the specification does not allow as entered; nothing was stored."""


def _pick(form: FollowUpIn, keys: tuple[str, ...]) -> dict[str, object]:
    return {k: v for k in keys if (v := getattr(form, k)) is not None}


def history(session: Session, resident_id: int, condition: str | None = None) -> list[FollowUp]:
    """A resident's follow-ups, newest first."""
    q = select(FollowUp).where(FollowUp.resident_id == resident_id)
    if condition:
        q = q.where(FollowUp.condition == condition)
    return list(session.scalars(q.order_by(FollowUp.visit_date.desc(), FollowUp.id.desc())))


def add(session: Session, resident: Resident, form: FollowUpIn, doctor: str, now: datetime) -> FollowUp:
    """Store one visit (append-only, signed by `doctor`); raises FollowUpRejected."""
    previous = next(iter(history(session, resident.id, form.condition)), None)
    if previous is not None and form.visit_date < previous.visit_date:
        raise FollowUpRejected(
            f"a later follow-up ({previous.visit_date}) is already recorded; record corrections as a new visit"
        )
    if form.referral is None and needs_referral(previous.classification if previous else None, form):
        raise FollowUpRejected(
            f"{CLASSIFICATION[form.classification]} twice in a row: the specification asks for a referral; record it"
        )
    row = FollowUp(
        resident_id=resident.id,
        condition=form.condition,
        visit_date=form.visit_date,
        mode=form.mode,
        doctor=doctor,
        symptoms=list(form.symptoms),
        signs=_pick(form, SIGNS),
        lifestyle=_pick(form, LIFESTYLE),
        tests=_pick(form, TESTS),
        adherence=form.adherence,
        adverse_reactions=form.adverse_reactions,
        hypoglycaemia=form.hypoglycaemia,
        classification=form.classification,
        medication=[m.model_dump() for m in form.medication],
        referral=form.referral.model_dump() if form.referral else None,
        next_date=form.next_date,
        notes=form.notes,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def schedule(session: Session, today: date, doctor: str | None = None) -> list[tuple[Resident, Due]]:
    """Every managed resident and condition with its due date, most overdue first; with `doctor`, only the
    residents whose last visit they recorded and those nobody has followed up yet."""
    people = list(session.scalars(select(Resident).order_by(Resident.code)))
    visits: dict[tuple[int, str], list[tuple[date, str, str, date]]] = defaultdict(list)
    for f in session.scalars(select(FollowUp)):
        visits[(f.resident_id, f.condition)].append((f.visit_date, f.mode, f.doctor, f.next_date))
    out = []
    for r in people:
        for condition in sorted(set(conditions_of(r.conditions or [])) | {c for (rid, c) in visits if rid == r.id}):
            d = due(r.id, condition, visits[(r.id, condition)], today)
            if doctor is None or d.doctor in (None, doctor):
                out.append((r, d))
    return sorted(out, key=lambda rd: (-rd[1].overdue_days, rd[1].due, rd[0].code, rd[1].condition))
