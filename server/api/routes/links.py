"""Caregiver one-tap links: the signed token is the key, no password."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from server.api.deps import ServicesDep
from server.api.routes.alarms import acknowledge_and_tell_home
from server.api.schemas import AlarmOut
from server.db.models import Alarm, Caregiver
from server.errors import Conflict, NotFound
from server.links import BadLink

router = APIRouter(prefix="/links", tags=["caregiver links"])


@router.post("/{token}/ack", response_model=AlarmOut)
def ack_by_link(token: str, services: ServicesDep) -> Alarm:
    """Acknowledge the alarm the link was sent for, as the caregiver it was sent to."""
    try:
        claim = services.signer.check(token)
    except BadLink as exc:
        raise HTTPException(403, detail=str(exc)) from exc
    with services.sessions() as s:
        caregiver = s.get(Caregiver, claim.caregiver_id)
    if caregiver is None:
        raise HTTPException(403, detail="this link is not valid")
    try:
        return acknowledge_and_tell_home(services, claim.alarm_id, caregiver.name, "caregiver_link")
    except NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    except Conflict as exc:
        raise HTTPException(409, detail=str(exc)) from exc
