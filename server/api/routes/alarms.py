"""Alarms: list and filter, show, audit trail, acknowledge, annotate, resolve (desk roles only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy import select

from server import alarms as desk
from server.alarm_ack import acknowledge_and_tell_home
from server.api.deps import RowId, ServicesDep, SessionDep, as_utc, permit
from server.api.schemas import AckIn, AlarmOut, AuditOut, NoteIn, ResolveIn
from server.auth import StaffIdentity
from server.db.models import Alarm, AlarmAudit
from server.errors import Conflict, NotFound

router = APIRouter(prefix="/alarms", tags=["alarms"])
DeskStaff = Annotated[StaffIdentity, Depends(permit("alarm.work"))]
STATUSES = ("raised", "notified", "acknowledged", "resolved", "cancelled", "active")


def _http(exc: Exception) -> HTTPException:
    return HTTPException(404 if isinstance(exc, NotFound) else 409, detail=str(exc))


@router.get("", response_model=list[AlarmOut])
def list_alarms(
    session: SessionDep,
    _staff: DeskStaff,
    status: Annotated[
        str | None,
        Query(pattern="^(" + "|".join(STATUSES) + ")$", description="a status, or `active` for all open ones"),
    ] = None,
    type: Annotated[str | None, Query(max_length=32, description="sos, fall, bp_high, gateway_offline…")] = None,
    severity: Annotated[str | None, Query(max_length=16)] = None,
    resident_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    gateway_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(description="raised at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="raised before (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Alarm]:
    """Alarms, newest first."""
    q = select(Alarm).order_by(Alarm.id.desc()).limit(limit)
    if status == "active":
        q = q.where(Alarm.status.in_(desk.ACTIVE))
    elif status:
        q = q.where(Alarm.status == status)
    for column, value in (
        (Alarm.type, type),
        (Alarm.severity, severity),
        (Alarm.resident_id, resident_id),
        (Alarm.gateway_id, gateway_id),
    ):
        if value is not None:
            q = q.where(column == value)
    since, until = as_utc(since), as_utc(until)
    if since:
        q = q.where(Alarm.raised_at >= since)
    if until:
        q = q.where(Alarm.raised_at < until)
    return list(session.scalars(q))


@router.get("/{alarm_id}", response_model=AlarmOut)
def get_alarm(alarm_id: RowId, session: SessionDep, _staff: DeskStaff) -> Alarm:
    """One alarm."""
    try:
        return desk.get_alarm(session, alarm_id)
    except NotFound as exc:
        raise _http(exc) from exc


@router.get("/{alarm_id}/audit", response_model=list[AuditOut])
def get_audit(alarm_id: RowId, session: SessionDep, _staff: DeskStaff) -> list[AlarmAudit]:
    """Every transition and note of an alarm, oldest first."""
    try:
        return list(desk.get_alarm(session, alarm_id).audit)
    except NotFound as exc:
        raise _http(exc) from exc


@router.post("/{alarm_id}/ack", response_model=AlarmOut)
def ack(alarm_id: RowId, body: AckIn, services: ServicesDep, staff: DeskStaff) -> Alarm:
    """Acknowledge: stops escalation and tells the resident help is coming."""
    try:
        return acknowledge_and_tell_home(services, alarm_id, staff.display_name, body.via)
    except (NotFound, Conflict) as exc:
        raise _http(exc) from exc


@router.post("/{alarm_id}/notes", response_model=AlarmOut)
def note(alarm_id: RowId, body: NoteIn, services: ServicesDep, staff: DeskStaff) -> Alarm:
    """Add a note to the alarm's record."""
    try:
        with services.sessions() as s, s.begin():
            return desk.add_note(s, alarm_id, staff.display_name, body.note, services.clock())
    except NotFound as exc:
        raise _http(exc) from exc


@router.post("/{alarm_id}/resolve", response_model=AlarmOut)
def resolve(alarm_id: RowId, body: ResolveIn, services: ServicesDep, staff: DeskStaff) -> Alarm:
    """Close the alarm with an outcome."""
    try:
        with services.sessions() as s, s.begin():
            return desk.resolve(s, alarm_id, staff.display_name, body.outcome, body.note, services.clock())
    except (NotFound, Conflict) as exc:
        raise _http(exc) from exc
