"""Finding residents: by name or code, district, category, age band, assessment grade, overdue contact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.care.categories import age_on
from server.db.models import Resident
from server.db.models_care import ResidentProfile

AGE_BANDS = {"60-69": (60, 69), "70-79": (70, 79), "80-89": (80, 89), "90+": (90, 200)}


@dataclass(frozen=True, slots=True)
class Filters:
    """What the list is narrowed by; None means any."""

    text: str | None = None
    district: str | None = None
    category: str | None = None
    age_band: str | None = None
    grade: str | None = None
    overdue_only: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the resident list."""

    code: str
    name: str
    district: str | None
    age: int | None
    categories: list[str]
    grade: str | None
    overdue: bool


def find(session: Session, f: Filters, today: date, overdue_codes: set[str]) -> list[Row]:
    """Residents matching every filter, by code."""
    q = select(Resident, ResidentProfile).outerjoin(ResidentProfile, ResidentProfile.resident_id == Resident.id)
    if f.text:
        like = f"%{f.text.strip()}%"
        q = q.where(or_(Resident.name.ilike(like), Resident.code.ilike(like), Resident.address.ilike(like)))
    if f.district:
        q = q.where(ResidentProfile.district == f.district)
    if f.grade:
        q = q.where(ResidentProfile.grade == f.grade)
    rows = []
    for resident, profile in session.execute(q.order_by(Resident.code)):
        birth = profile.birth_date if profile else None
        age = age_on(birth, today) if birth else None
        cats = list(resident.care_categories or [])
        if f.category and f.category not in cats:
            continue
        if f.age_band in AGE_BANDS and (age is None or not AGE_BANDS[f.age_band][0] <= age <= AGE_BANDS[f.age_band][1]):
            continue
        overdue = resident.code in overdue_codes
        if f.overdue_only and not overdue:
            continue
        rows.append(
            Row(
                resident.code,
                resident.name,
                profile.district if profile else None,
                age,
                cats,
                profile.grade if profile else None,
                overdue,
            )
        )
    return rows


def districts(session: Session) -> list[str]:
    """Districts in use, for the filter's choices."""
    return sorted(d for d in session.scalars(select(ResidentProfile.district).distinct()) if d)
