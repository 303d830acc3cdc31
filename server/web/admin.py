"""The console's other pages: technical view, service figures, and administration of homes."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy import func, select

from server import audit
from server.api.deps import ServicesDep, SessionDep, actor_of
from server.db.models import Caregiver, Pairing, Resident
from server.errors import ProvisionError
from server.provision import CaregiverIn, ProvisionFile, ResidentIn, apply
from server.web import views
from server.web.auth import AdminUserDep, ConsoleUserDep, PairingAdminDep
from server.web.render import DISPLAY_TZ, page

router = APIRouter(prefix="/console", include_in_schema=False)

SILENT_AFTER = timedelta(hours=6)
BATTERY_LOW = 20.0


def _items(text: str) -> list[str]:
    return [part.strip() for part in text.replace("，", ",").split(",") if part.strip()]


@router.get("/tech", response_class=HTMLResponse)
def tech(request: Request, services: ServicesDep, session: SessionDep, user: ConsoleUserDep) -> HTMLResponse:
    """Gateways offline, devices silent, batteries low, open technical alarms."""
    view = views.fleet(session, services.clock(), SILENT_AFTER, BATTERY_LOW)
    return page(request, services, "tech.html", user=user, fleet=view, battery_low=BATTERY_LOW)


@router.get("/figures", response_class=HTMLResponse)
def figures(request: Request, services: ServicesDep, session: SessionDep, user: ConsoleUserDep,
            days: int = 30) -> HTMLResponse:
    """Share of alarms acknowledged within 60 s and 180 s, per day and per person."""
    result = views.service_figures(session, services.clock(), DISPLAY_TZ, max(1, min(days, 366)))
    return page(request, services, "figures.html", user=user, figures=result, days=days)


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request, services: ServicesDep, session: SessionDep, user: AdminUserDep) -> HTMLResponse:
    """Residents, their caregivers, gateways and devices; forms to register and pair."""
    return page(request, services, "admin.html", user=user, homes=views.homes(session),
                error=request.query_params.get("error"), saved=request.query_params.get("saved"))


def _done(error: str | None = None) -> RedirectResponse:
    return RedirectResponse(f"/console/admin?error={quote(error)}" if error else "/console/admin?saved=1", 303)


def _keep_what_was_left_blank(update: ResidentIn, existing: Resident) -> None:
    # Updating an address must not wipe the medication list: a blank field keeps what is stored,
    # and the caregivers already paired stay, in their order.
    for name in ("birth_year", "address", "phone", "key_holder", "conditions", "medication"):
        if not getattr(update, name):
            setattr(update, name, getattr(existing, name))
    for name in ("language", "care_categories", "bp_target", "consent", "consent_sharing", "notes"):  # not on the form
        setattr(update, name, getattr(existing, name))
    update.caregivers = [p.caregiver.code for p in existing.pairings]


@router.post("/admin/residents")
def register_resident(request: Request, services: ServicesDep, user: AdminUserDep, code: Annotated[str, Form()],
                      name: Annotated[str, Form()], birth_year: Annotated[str, Form()] = "",
                      address: Annotated[str, Form()] = "", phone: Annotated[str, Form()] = "",
                      key_holder: Annotated[str, Form()] = "", conditions: Annotated[str, Form()] = "",
                      medication: Annotated[str, Form()] = "") -> RedirectResponse:
    """Register (or update, by code) a resident, through the same path as the provisioning file."""
    try:
        resident = ResidentIn(code=code.strip(), name=name.strip(), birth_year=int(birth_year) if birth_year else None,
                              address=address or None, phone=phone or None, key_holder=key_holder or None,
                              conditions=_items(conditions), medication=_items(medication))
    except (ValueError, ValidationError) as exc:
        return _done(f"{code}: {exc}")
    with services.sessions() as s, s.begin():
        existing = s.scalars(select(Resident).where(Resident.code == resident.code)).first()
        before = audit.snapshot(existing, audit.RESIDENT_FIELDS)
        if existing is not None:
            _keep_what_was_left_blank(resident, existing)
        apply(s, ProvisionFile(residents=[resident]))
        after = s.scalars(select(Resident).where(Resident.code == resident.code)).one()
        audit.record(s, actor_of(request, user), "resident.write", services.clock(), "resident", resident.code,
                     before, audit.snapshot(after, audit.RESIDENT_FIELDS))
    return _done()


@router.post("/admin/pairings")
def pair_caregiver(request: Request, services: ServicesDep, user: PairingAdminDep, resident: Annotated[str, Form()],
                   code: Annotated[str, Form()], name: Annotated[str, Form()],
                   phone: Annotated[str, Form()] = "", relation: Annotated[str, Form()] = "",
                   notify_url: Annotated[str, Form()] = "") -> RedirectResponse:
    """Register a caregiver (or update them, by code) and add them last in a resident's escalation order."""
    try:
        caregiver = CaregiverIn(code=code.strip(), name=name.strip(), phone=phone or None, relation=relation or None,
                                notify=_items(notify_url))
    except ValidationError as exc:
        return _done(f"{code}: {exc}")
    try:
        with services.sessions() as s, s.begin():
            target = s.scalars(select(Resident).where(Resident.code == resident)).first()
            if target is None:
                raise ProvisionError(f"unknown resident {resident!r}")
            before = audit.snapshot(s.scalars(select(Caregiver).where(Caregiver.code == caregiver.code)).first(),
                                    audit.CAREGIVER_FIELDS)
            apply(s, ProvisionFile(caregivers=[caregiver]))
            row = s.scalars(select(Caregiver).where(Caregiver.code == caregiver.code)).one()
            audit.record(s, actor_of(request, user), "pairing.write", services.clock(), "caregiver", row.code,
                         before, {**(audit.snapshot(row, audit.CAREGIVER_FIELDS) or {}), "resident": target.code})
            already = s.scalars(select(Pairing).where(Pairing.resident_id == target.id,
                                                      Pairing.caregiver_id == row.id)).first()
            if already is None:
                rank = (s.scalar(select(func.max(Pairing.rank)).where(Pairing.resident_id == target.id)) or 0) + 1
                s.add(Pairing(resident_id=target.id, caregiver_id=row.id, rank=rank))
    except ProvisionError as exc:
        return _done(str(exc))
    return _done()
