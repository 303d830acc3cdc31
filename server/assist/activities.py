"""Activities, courses and teams (老有所为): sign-ups, attendance, and who to invite from their interests and skills."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from server import audit
from server.assist.errors import AssistError, NotFound
from server.assist.store import resident_by_code
from server.audit import Actor
from server.care.plans import to_utc
from server.db.models import Resident
from server.db.models_assist import Activity, ActivitySignup
from server.db.models_care import ResidentProfile


class ActivityIn(BaseModel):
    """A course, talk, outing or team."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["course", "talk", "outing", "team"]
    title: str = Field(min_length=1, max_length=128)
    tags: list[str] = Field(default_factory=list, max_length=20)
    starts_at: datetime | None = None
    place: str | None = Field(default=None, max_length=256)
    district: str | None = Field(default=None, max_length=64)
    capacity: int = Field(default=30, ge=1, le=10000)


class ActivityOut(ActivityIn):
    """An activity with how many signed up and attended."""

    model_config = ConfigDict(extra="ignore")
    id: int
    signed_up: int
    attended: int


class SignupIn(BaseModel):
    """A resident signing up (or joining a team with a skill), or their attendance marked."""

    model_config = ConfigDict(extra="forbid")
    resident_code: str = Field(min_length=1, max_length=64)
    role: str | None = Field(default=None, max_length=128)
    attended: bool | None = None


def create(session: Session, body: ActivityIn, actor: Actor, now: datetime) -> Activity:
    """Announce an activity or found a team; audited."""
    row = Activity(
        kind=body.kind,
        title=body.title,
        tags=list(body.tags),
        place=body.place,
        district=body.district,
        starts_at=to_utc(body.starts_at) if body.starts_at else None,
        capacity=body.capacity,
        created_at=now,
        created_by=actor.name or "",
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "activity.created", now, "activity", str(row.id), after=body.model_dump(mode="json"))
    return row


def sign_up(session: Session, activity_id: int, body: SignupIn, actor: Actor, now: datetime) -> ActivitySignup:
    """Sign a resident up (full activities refuse), or mark the attendance of one already signed up; audited."""
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise NotFound(f"no activity {activity_id}")
    resident = resident_by_code(session, body.resident_code)
    row = session.scalars(
        select(ActivitySignup).where(
            ActivitySignup.activity_id == activity_id, ActivitySignup.resident_id == resident.id
        )
    ).first()
    if row is None:
        taken = session.scalar(select(func.count(ActivitySignup.id)).where(ActivitySignup.activity_id == activity_id))
        if (taken or 0) >= activity.capacity:
            raise AssistError(f"{activity.title} is full ({activity.capacity})")
        row = ActivitySignup(activity_id=activity_id, resident_id=resident.id, role=body.role, signed_at=now)
        session.add(row)
    if body.attended is not None:
        row.attended = body.attended
    session.flush()
    audit.record(
        session,
        actor,
        "activity.signup",
        now,
        "activity",
        str(activity_id),
        after={"resident": resident.code, "role": body.role, "attended": body.attended},
    )
    return row


def listing(session: Session) -> list[ActivityOut]:
    """Every activity and team, soonest first, with sign-ups and attendance."""
    counts = {
        aid: (int(n), int(att or 0))
        for aid, n, att in session.execute(
            select(
                ActivitySignup.activity_id,
                func.count(ActivitySignup.id),
                func.sum(case((ActivitySignup.attended.is_(True), 1), else_=0)),
            ).group_by(ActivitySignup.activity_id)
        )
    }
    rows = session.scalars(select(Activity).order_by(Activity.starts_at.is_(None), Activity.starts_at, Activity.id))
    return [
        ActivityOut(
            id=a.id,
            kind=a.kind,
            title=a.title,
            tags=list(a.tags or []),
            starts_at=a.starts_at,
            place=a.place,
            district=a.district,
            capacity=a.capacity,
            signed_up=counts.get(a.id, (0, 0))[0],
            attended=counts.get(a.id, (0, 0))[1],
        )
        for a in rows
    ]


def match(tags: list[str], interests: list[str], skills: list[str]) -> list[str]:
    """The tags a resident's interests or skills share with an activity (substring either way: 书法 ~ 硬笔书法)."""
    mine = [x for x in (*interests, *skills) if x]
    return [t for t in tags if any(t in x or x in t for x in mine)]


def suggest(session: Session, activity_id: int) -> list[dict[str, object]]:
    """Residents not yet signed up whose profile interests or skills match the activity's tags."""
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise NotFound(f"no activity {activity_id}")
    joined = set(session.scalars(select(ActivitySignup.resident_id).where(ActivitySignup.activity_id == activity_id)))
    found: list[tuple[list[str], bool, Resident]] = []  # (matches, same district, resident)
    for resident, prof in session.execute(
        select(Resident, ResidentProfile).join(ResidentProfile, ResidentProfile.resident_id == Resident.id)
    ):
        fields = prof.fields or {}
        hits = match(list(activity.tags or []), list(fields.get("interests") or []), list(fields.get("skills") or []))
        if hits and resident.id not in joined:
            found.append((hits, bool(activity.district) and prof.district == activity.district, resident))
    found.sort(key=lambda f: (-len(f[0]), not f[1], f[2].code))  # most matches, then same district, then code
    return [
        {"resident_code": r.code, "name": r.name, "matches": hits, "same_district": same} for hits, same, r in found
    ]


def members(session: Session, activity_id: int) -> list[tuple[Resident, ActivitySignup]]:
    """Who signed up for an activity (or joined a team), in order of signing."""
    return [
        (r, su)
        for su, r in session.execute(
            select(ActivitySignup, Resident)
            .join(Resident, Resident.id == ActivitySignup.resident_id)
            .where(ActivitySignup.activity_id == activity_id)
            .order_by(ActivitySignup.signed_at, ActivitySignup.id)
        )
    ]
