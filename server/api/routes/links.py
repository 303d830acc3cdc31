"""Caregiver one-tap links: the signed token is the key, no password."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from server.alarm_ack import acknowledge_and_tell_home
from server.api.deps import ServicesDep
from server.api.schemas import AlarmOut, LinkAlarmOut
from server.db.models import Alarm, Caregiver, Resident
from server.errors import Conflict, NotFound
from server.links import BadLink, LinkClaim

router = APIRouter(prefix="/links", tags=["caregiver links"])


def _claim(services: ServicesDep, token: str) -> tuple[LinkClaim, Caregiver]:
    try:
        claim = services.signer.check(token)
    except BadLink as exc:
        raise HTTPException(403, detail=str(exc)) from exc
    with services.sessions() as s:
        caregiver = s.get(Caregiver, claim.caregiver_id)
    if caregiver is None:
        raise HTTPException(403, detail="this link is not valid")
    return claim, caregiver


@router.get("/{token}", response_model=LinkAlarmOut)
def show_by_link(token: str, services: ServicesDep) -> LinkAlarmOut:
    """The alarm the link was sent for and its resident's address: nothing about anyone else."""
    claim, caregiver = _claim(services, token)
    with services.sessions() as s:
        alarm = s.get(Alarm, claim.alarm_id)
        if alarm is None:
            raise HTTPException(404, detail="this alarm no longer exists")
        resident = s.get(Resident, alarm.resident_id) if alarm.resident_id else None
        return LinkAlarmOut(
            alarm=AlarmOut.model_validate(alarm),
            resident_name=resident.name if resident else None,
            address=resident.address if resident else None,
            key_holder=resident.key_holder if resident else None,
            caregiver_name=caregiver.name,
        )


@router.post("/{token}/ack", response_model=AlarmOut)
def ack_by_link(token: str, services: ServicesDep) -> Alarm:
    """Acknowledge the alarm the link was sent for, as the caregiver it was sent to."""
    claim, caregiver = _claim(services, token)
    try:
        return acknowledge_and_tell_home(services, claim.alarm_id, caregiver.name, "caregiver_link")
    except NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    except Conflict as exc:
        raise HTTPException(409, detail=str(exc)) from exc
