"""Alarms: list, show, acknowledge, annotate, resolve."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from anxin import protocol
from server import alarms as desk
from server.api.deps import ServicesDep, SessionDep
from server.api.schemas import AckIn, AlarmOut, AuditOut, NoteIn, ResolveIn
from server.db.models import Alarm
from server.errors import Conflict, NotFound
from server.services import Services

router = APIRouter(prefix="/alarms", tags=["alarms"])


def _http(exc: Exception) -> HTTPException:
    return HTTPException(404 if isinstance(exc, NotFound) else 409, detail=str(exc))


def acknowledge_and_tell_home(services: Services, alarm_id: int, by: str, via: str) -> Alarm:
    """Record the acknowledgement, then tell the home that help is coming."""
    with services.sessions() as s, s.begin():
        alarm, first = desk.acknowledge(s, alarm_id, by, via, services.clock())
    if first:
        services.downlink(alarm.gateway_id, protocol.Command(
            "alarm_acknowledged",
            {"alarm_id": alarm.id, "gateway_seq": alarm.gateway_seq, "type": alarm.type, "device": alarm.device,
             "by": by, "via": via},
        ))
    return alarm


@router.get("", response_model=list[AlarmOut])
def list_alarms(
    session: SessionDep,
    status: str | None = Query(None, description="raised, notified, acknowledged, resolved, cancelled or active"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[Alarm]:
    """Alarms, newest first."""
    q = select(Alarm).order_by(Alarm.id.desc()).limit(limit)
    if status == "active":
        q = q.where(Alarm.status.in_(desk.ACTIVE))
    elif status:
        q = q.where(Alarm.status == status)
    return list(session.scalars(q))


@router.get("/{alarm_id}", response_model=AlarmOut)
def get_alarm(alarm_id: int, session: SessionDep) -> Alarm:
    """One alarm."""
    try:
        return desk.get_alarm(session, alarm_id)
    except NotFound as exc:
        raise _http(exc) from exc


@router.get("/{alarm_id}/audit", response_model=list[AuditOut])
def get_audit(alarm_id: int, session: SessionDep) -> list:
    """Every transition and note of an alarm, oldest first."""
    try:
        return list(desk.get_alarm(session, alarm_id).audit)
    except NotFound as exc:
        raise _http(exc) from exc


@router.post("/{alarm_id}/ack", response_model=AlarmOut)
def ack(alarm_id: int, body: AckIn, services: ServicesDep) -> Alarm:
    """Acknowledge: stops escalation and tells the resident help is coming."""
    try:
        return acknowledge_and_tell_home(services, alarm_id, body.by, body.via)
    except (NotFound, Conflict) as exc:
        raise _http(exc) from exc


@router.post("/{alarm_id}/notes", response_model=AlarmOut)
def note(alarm_id: int, body: NoteIn, services: ServicesDep) -> Alarm:
    """Add a note to the alarm's record."""
    try:
        with services.sessions() as s, s.begin():
            return desk.add_note(s, alarm_id, body.by, body.note, services.clock())
    except NotFound as exc:
        raise _http(exc) from exc


@router.post("/{alarm_id}/resolve", response_model=AlarmOut)
def resolve(alarm_id: int, body: ResolveIn, services: ServicesDep) -> Alarm:
    """Close the alarm with an outcome."""
    try:
        with services.sessions() as s, s.begin():
            return desk.resolve(s, alarm_id, body.by, body.outcome, body.note, services.clock())
    except (NotFound, Conflict) as exc:
        raise _http(exc) from exc
