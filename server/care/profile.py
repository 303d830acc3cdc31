"""A resident's profile: read it with what is derived, save it keeping every field's history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.care import audit, categories
from server.care.errors import UnknownResident
from server.care.plans import Intervals, local_date
from server.care.schemas import ChangeOut, ProfileIn, ProfileOut
from server.db.models import Resident
from server.db.models_care import Contact, ProfileChange, ResidentProfile

# Fields kept on the resident row itself (the alarm card and notifications read them there).
_ON_RESIDENT = ("name", "phone", "address", "language", "conditions", "medication")
_COLUMNS = ("birth_date", "district", "living_arrangement")


def resident_by_code(session: Session, code: str) -> Resident:
    """The resident, or UnknownResident."""
    resident = session.scalars(select(Resident).where(Resident.code == code)).first()
    if resident is None:
        raise UnknownResident(f"no resident has the code {code!r}")
    return resident


def profile_row(session: Session, resident: Resident, create: bool = True) -> ResidentProfile:
    """The resident's profile row, created empty the first time (or, for reading, an empty one not stored)."""
    row = session.get(ResidentProfile, resident.id)
    if row is None and not create:
        return ResidentProfile(resident_id=resident.id, fields={}, staff_categories={})
    if row is None:
        row = ResidentProfile(resident_id=resident.id, fields={}, staff_categories={})
        session.add(row)
        session.flush()
    return row


def _current(resident: Resident, row: ResidentProfile) -> dict[str, Any]:
    values: dict[str, Any] = dict(row.fields or {})
    for name in _ON_RESIDENT:
        values[name] = getattr(resident, name)
    for name in _COLUMNS:
        values[name] = getattr(row, name)
    values["staff_categories"] = dict(row.staff_categories or {})
    values.setdefault("key_holders", [resident.key_holder] if resident.key_holder else [])
    return values


def last_contact(session: Session, resident_id: int) -> datetime | None:
    """When anyone last reached the resident."""
    return session.scalars(
        select(Contact.at).where(Contact.resident_id == resident_id).order_by(Contact.at.desc()).limit(1)
    ).first()


def read(session: Session, resident: Resident, today: date, advanced_age: int, intervals: Intervals) -> ProfileOut:
    """The profile as staff see it, with categories and plan derived from it (reading stores nothing)."""
    row = profile_row(session, resident, create=False)
    values = ProfileIn.model_validate(
        {k: v for k, v in _current(resident, row).items() if k in ProfileIn.model_fields}
    ).model_dump()
    cats = categories.derive(
        birth_of(resident, row), row.living_arrangement, row.grade, row.staff_categories or {}, today, advanced_age
    )
    tier = categories.tier(cats, row.grade)
    return ProfileOut(
        **values,
        code=resident.code,
        grade=row.grade,
        categories=cats,
        tier=tier,
        age=categories.age_on(birth, today) if (birth := birth_of(resident, row)) else None,
        contact_interval_days=intervals.days(tier),
        devices_needed=categories.devices_needed(cats),
        services_offered=categories.services_offered(cats),
        last_contact=last_contact(session, resident.id),
        updated_at=row.updated_at if row.fields or row.birth_date else None,
        updated_by=row.updated_by,
    )


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def save(session: Session, code: str, body: ProfileIn, actor: str, now: datetime, advanced_age: int) -> Resident:
    """Create or update the profile; one history row per changed field, one audit row per save."""
    resident = session.scalars(select(Resident).where(Resident.code == code)).first()
    created = resident is None
    if resident is None:
        resident = Resident(code=code, name=body.name, care_categories=[], conditions=[], medication=[])
        session.add(resident)
        session.flush()
    row = profile_row(session, resident)
    before = {k: _jsonable(v) for k, v in _current(resident, row).items()}
    after = {k: _jsonable(v) for k, v in body.model_dump().items()}
    changed = [k for k in after if before.get(k) != after[k] and not (before.get(k) is None and after[k] in ([], {}))]
    for name in changed:
        session.add(
            ProfileChange(
                resident_id=resident.id,
                at=now,
                actor=actor,
                field=name,
                old={"v": before.get(name)},
                new={"v": after[name]},
            )
        )
    data = body.model_dump()
    for name in _ON_RESIDENT:
        setattr(resident, name, data.pop(name))
    for name in _COLUMNS:
        setattr(row, name, data.pop(name))
    row.staff_categories = data.pop("staff_categories")
    row.fields = {k: _jsonable(v) for k, v in data.items()}
    row.updated_at, row.updated_by = now, actor
    resident.birth_year = body.birth_date.year if body.birth_date else resident.birth_year
    resident.key_holder = "; ".join(body.key_holders) or None
    refresh_categories(session, resident, row, local_date(now), advanced_age)
    audit.record(session, actor, "profile_created" if created else "profile_changed", resident.id, now, fields=changed)
    return resident


def birth_of(resident: Resident, row: ResidentProfile) -> date | None:
    """The birth date, or for records imported with a year only, the year's last day (never older than true)."""
    if row.birth_date is not None:
        return row.birth_date
    return date(resident.birth_year, 12, 31) if resident.birth_year else None


def refresh_categories(
    session: Session, resident: Resident, row: ResidentProfile, today: date, advanced_age: int
) -> None:
    """Keep the resident row's category list (the console and lists filter on it) equal to the derived one."""
    resident.care_categories = categories.derive(
        birth_of(resident, row), row.living_arrangement, row.grade, row.staff_categories or {}, today, advanced_age
    )


def history(session: Session, resident: Resident) -> list[ChangeOut]:
    """Every change to the profile, newest first."""
    rows = session.scalars(
        select(ProfileChange)
        .where(ProfileChange.resident_id == resident.id)
        .order_by(ProfileChange.at.desc(), ProfileChange.id.desc())
    )
    return [ChangeOut(at=r.at, actor=r.actor, field=r.field, old=r.old.get("v"), new=r.new.get("v")) for r in rows]
