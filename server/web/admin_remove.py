"""Removing a resident from the admin page: the data-rights erasure of issue 15, never a second deletion.

Refused while any of their alarms is open. What happens is said before it is done: readings deleted, name,
address, phone, notes and consent anonymised, alarm counts and times kept (anonymised) for the service figures,
caregivers paired with nobody else anonymised, the home's gateways unlinked (an alarm from them still reaches
the desk as "unknown resident"). The admin types the resident's code to confirm.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import audit, data_rights
from server.alarms import ACTIVE
from server.api.deps import ServicesDep, actor_of
from server.auth import StaffIdentity
from server.db.models import Alarm, Gateway, Resident
from server.web.auth import page_permit
from server.web.render import page

router = APIRouter(prefix="/console/admin/residents", include_in_schema=False)
ErasureAdminDep = Annotated[StaffIdentity, Depends(page_permit("data_rights"))]


def _resident(session: Session, code: str) -> Resident:
    row = session.scalars(select(Resident).where(Resident.code == code, Resident.erased_at.is_(None))).first()
    if row is None:
        raise HTTPException(404, detail=f"no resident {code} (or already removed)")
    return row


def open_alarms(session: Session, resident: Resident) -> list[Alarm]:
    """The resident's alarms still being worked: while any is open, removal is refused."""
    return list(
        session.scalars(
            select(Alarm).where(Alarm.resident_id == resident.id, Alarm.status.in_(ACTIVE)).order_by(Alarm.id)
        )
    )


def _form(
    request: Request,
    services: ServicesDep,
    user: StaffIdentity,
    session: Session,
    resident: Resident,
    status_code: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    gateways = list(session.scalars(select(Gateway.id).where(Gateway.resident_id == resident.id)))
    return page(
        request,
        services,
        "resident_remove.html",
        status_code=status_code,
        user=user,
        resident=resident,
        alarms=open_alarms(session, resident),
        gateways=gateways,
        error=error,
    )


@router.get("/{code}/remove", response_class=HTMLResponse)
def remove_form(code: str, request: Request, services: ServicesDep, user: ErasureAdminDep) -> HTMLResponse:
    """What removal does to the resident's data, and the confirmation form (or why it is refused now)."""
    with services.sessions() as s:
        return _form(request, services, user, s, _resident(s, code))


@router.post("/{code}/remove", response_model=None)
def remove(
    code: str,
    request: Request,
    services: ServicesDep,
    user: ErasureAdminDep,
    confirm: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse | RedirectResponse:
    """Erase the resident's personal data (server/data_rights.py) and unlink their gateways, audited."""
    now = services.clock()
    with services.sessions() as s, s.begin():
        resident = _resident(s, code)
        if open_alarms(s, resident):
            return _form(request, services, user, s, resident, 409, "remove_open_alarm")
        if confirm.strip() != resident.code:
            return _form(request, services, user, s, resident, 422, "remove_confirm_mismatch")
        gateways = list(s.scalars(select(Gateway).where(Gateway.resident_id == resident.id)))
        for gw in gateways:
            gw.resident_id = None
        counts = data_rights.erase(s, resident, now)
        audit.record(
            s,
            actor_of(request, user),
            "resident.remove",
            now,
            "resident",
            code,
            after={**counts, "gateways_unlinked": [g.id for g in gateways]},
        )
    return RedirectResponse("/console/admin?saved=1", 303)
