"""A resident's medication and measurement reminders, and how well they are kept (adherence)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from server import home_reminders
from server.api.deps import RowId, ServicesDep, SessionDep, permit
from server.auth import StaffIdentity
from server.db.models import Resident
from server.errors import NotFound

router = APIRouter(prefix="/residents", tags=["reminders"])
Reader = Annotated[StaffIdentity, Depends(permit("resident.read"))]
Setter = Annotated[StaffIdentity, Depends(permit("reminders.write"))]


class ReminderIn(BaseModel):
    """One reminder (the gateway's schema checks it in full: docs/home.md)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64, description="stable key, e.g. amlodipine-morning")
    kind: Literal["medication", "measurement"]
    what: str = Field(min_length=1, max_length=120, description="said in the prompt: 苯磺酸氨氯地平 5 毫克 一片")
    rrule: str = Field(description="RFC 5545 RRULE in the home's time, e.g. FREQ=DAILY;BYHOUR=8;BYMINUTE=0")
    start: datetime = Field(description="first day, the home's local time without a zone")
    metric: Literal["blood_pressure"] | None = None
    repeats: int = 3
    repeat_every_min: float = 10.0


class ReminderOut(ReminderIn):
    """A stored reminder."""

    updated_by: str
    updated_at: datetime


class RemindersOut(BaseModel):
    """What is set, and the version sent to the home."""

    version: int | None = None
    reminders: list[ReminderOut]


class AdherenceOut(BaseModel):
    """One reminder's record over the period."""

    id: str
    kind: str
    what: str
    confirmed: int
    missed: int
    rate: float | None


def _resident(session: SessionDep, resident_id: int) -> Resident:
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise HTTPException(404, detail=f"resident {resident_id} does not exist")
    return resident


@router.get("/{resident_id}/reminders", response_model=RemindersOut)
def get_reminders(resident_id: RowId, session: SessionDep, _who: Reader) -> RemindersOut:
    """The reminders said in the resident's home."""
    _resident(session, resident_id)
    rows = home_reminders.reminders_of(session, resident_id)
    return RemindersOut(
        reminders=[
            ReminderOut(
                id=r.key,
                kind=r.kind,
                what=r.what,
                rrule=r.rrule,
                start=datetime.fromisoformat(r.start_local),
                metric=r.metric,
                repeats=r.repeats,
                repeat_every_min=r.repeat_every_min,
                updated_by=r.updated_by,
                updated_at=r.updated_at,
            )
            for r in rows
        ]
    )


@router.put("/{resident_id}/reminders", response_model=RemindersOut, status_code=202)
def put_reminders(
    resident_id: RowId, body: list[ReminderIn], services: ServicesDep, session: SessionDep, who: Setter
) -> RemindersOut:
    """Replace the resident's reminders (doctors, coordinators, administrators) and send them to the home."""
    try:
        version, _ = home_reminders.set_reminders(
            services, resident_id, [r.model_dump() for r in body], who.display_name or who.username, who.role
        )
    except home_reminders.InvalidReminders as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    except NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    session.expire_all()
    out = get_reminders(resident_id, session, who)
    out.version = version
    return out


@router.get("/{resident_id}/adherence", response_model=list[AdherenceOut])
def get_adherence(
    resident_id: RowId,
    session: SessionDep,
    services: ServicesDep,
    _who: Reader,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> list[AdherenceOut]:
    """Per reminder: occurrences confirmed and missed at home over the last `days`."""
    _resident(session, resident_id)
    return [
        AdherenceOut(id=a.key, kind=a.kind, what=a.what, confirmed=a.confirmed, missed=a.missed, rate=a.rate)
        for a in home_reminders.adherence(session, resident_id, services.clock(), days)
    ]
