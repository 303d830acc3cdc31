"""The caregiver's phone page at /c/{token}: the signed link is the key, one big button."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server import alarms as desk
from server.alarm_ack import acknowledge_and_tell_home
from server.api.deps import ServicesDep, SessionDep
from server.db.models import Alarm, Caregiver, Resident
from server.errors import Conflict, NotFound
from server.links import BadLink, LinkClaim
from server.services import Services
from server.web import views
from server.web.render import page

router = APIRouter(include_in_schema=False)


@dataclass
class CaregiverView:
    """What the caregiver's page needs."""

    claim: LinkClaim
    alarm: Alarm
    caregiver: Caregiver
    resident: Resident | None


def load(services: Services, session: Session, token: str) -> CaregiverView | None:
    """The alarm and caregiver a link is for, or None when the link is not valid."""
    try:
        claim = services.signer.check(token)
    except BadLink:
        return None
    alarm = session.scalars(select(Alarm).where(Alarm.id == claim.alarm_id).options(selectinload(Alarm.audit))).first()
    caregiver = session.get(Caregiver, claim.caregiver_id)
    if alarm is None or caregiver is None:
        return None
    resident = session.get(Resident, alarm.resident_id) if alarm.resident_id else None
    return CaregiverView(claim, alarm, caregiver, resident)


def _render(request: Request, services: Services, session: Session, token: str, name: str) -> HTMLResponse:
    view = load(services, session, token)
    if view is None:
        return page(request, services, "caregiver_bad.html", status_code=403, duty_phone=services.settings.duty_phone)
    acks = views.acknowledgements(view.alarm)
    mine = any(a.detail.get("via") == "caregiver_link" and a.actor == view.caregiver.name for a in acks)
    declined = any(a.action == "declined" and a.actor == view.caregiver.name for a in view.alarm.audit)
    return page(
        request,
        services,
        name,
        person_language=view.caregiver.language,
        token=token,
        view=view,
        acks=acks,
        mine=mine,
        declined=declined,
        closed=view.alarm.status in ("resolved", "cancelled"),
    )


@router.get("/c/{token}", response_class=HTMLResponse)
def caregiver_page(token: str, request: Request, services: ServicesDep, session: SessionDep) -> HTMLResponse:
    """Who, what, when, where — and the button."""
    return _render(request, services, session, token, "caregiver.html")


@router.get("/c/{token}/panel", response_class=HTMLResponse)
def caregiver_panel(token: str, request: Request, services: ServicesDep, session: SessionDep) -> HTMLResponse:
    """The live part of the page: the button or who has acknowledged."""
    return _render(request, services, session, token, "_caregiver_panel.html")


@router.post("/c/{token}/ack", response_model=None)
def caregiver_ack(token: str, request: Request, services: ServicesDep, session: SessionDep) -> Response:
    """The button: acknowledge as the caregiver the link was sent to."""
    view = load(services, session, token)
    if view is None:
        return page(request, services, "caregiver_bad.html", status_code=403, duty_phone=services.settings.duty_phone)
    with contextlib.suppress(NotFound, Conflict):  # closed meanwhile: the page says so
        acknowledge_and_tell_home(services, view.claim.alarm_id, view.caregiver.name, "caregiver_link")
    return RedirectResponse(f"/c/{token}", 303)


@router.post("/c/{token}/decline", response_model=None)
def caregiver_decline(token: str, request: Request, services: ServicesDep, session: SessionDep) -> Response:
    """ "I can't come": the escalation moves on to the next person at once."""
    view = load(services, session, token)
    if view is None:
        return page(request, services, "caregiver_bad.html", status_code=403, duty_phone=services.settings.duty_phone)
    try:
        with services.sessions() as s, s.begin():
            desk.decline(s, view.claim.alarm_id, view.caregiver.name, services.clock())
    except NotFound:
        pass  # gone meanwhile: the page says so
    return RedirectResponse(f"/c/{token}", 303)
