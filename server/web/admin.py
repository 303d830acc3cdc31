"""The console's other pages: technical view, service figures, and administration of homes."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import func, select

from server import audit
from server.api.deps import ServicesDep, SessionDep, actor_of
from server.db.models import Caregiver, Pairing, Resident
from server.provision import CaregiverIn, ProvisionFile, ResidentIn, apply
from server.web import admin_checks as checks
from server.web import views
from server.web.admin_channels import channel_rows
from server.web.auth import AdminUserDep, ConsoleUserDep, PairingAdminDep
from server.web.render import DISPLAY_TZ, page

router = APIRouter(prefix="/console", include_in_schema=False)

SILENT_AFTER = timedelta(hours=6)
BATTERY_LOW = 20.0


@router.get("/tech", response_class=HTMLResponse)
def tech(request: Request, services: ServicesDep, session: SessionDep, user: ConsoleUserDep) -> HTMLResponse:
    """Gateways offline, devices silent, batteries low, open technical alarms."""
    view = views.fleet(session, services.clock(), SILENT_AFTER, BATTERY_LOW)
    return page(request, services, "tech.html", user=user, fleet=view, battery_low=BATTERY_LOW)


@router.get("/figures", response_class=HTMLResponse)
def figures(
    request: Request, services: ServicesDep, session: SessionDep, user: ConsoleUserDep, days: int = 30
) -> HTMLResponse:
    """Share of alarms acknowledged within 60 s and 180 s, per day and per person."""
    result = views.service_figures(session, services.clock(), DISPLAY_TZ, max(1, min(days, 366)))
    return page(request, services, "figures.html", user=user, figures=result, days=days)


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request, services: ServicesDep, session: SessionDep, user: AdminUserDep) -> HTMLResponse:
    """Residents, their caregivers, gateways and devices; forms to register and pair."""
    q = request.query_params
    edit = _edit_values(session, q.get("caregiver"), q.get("resident"))
    forms: dict[str, dict[str, Any]] = {"pair": edit} if edit else {}
    if q.get("device"):  # "pair this device" from the coverage page: what the gateway reported
        forms["device"] = {"gateway": q.get("gateway", ""), "name": q["device"]}
    return page(
        request,
        services,
        "admin.html",
        user=user,
        homes=views.homes(session),
        error=q.get("error"),
        saved=q.get("saved"),
        forms=forms,
        checked={},
        families=checks.FAMILIES,
        roles=checks.ROLES,
        channels=channel_rows(session, services.clock()),
        tested=q.get("tested"),
        tested_cg=q.get("tested_cg"),
    )


def _edit_values(session: SessionDep, caregiver: str | None, resident: str | None) -> dict[str, Any] | None:
    # "Edit" prefills the pairing form; the notification URLs are not shown back (they hold tokens):
    # left blank, they are kept.
    row = session.scalars(select(Caregiver).where(Caregiver.code == caregiver)).first() if caregiver else None
    if row is None:
        return None
    return {
        "resident": resident or "",
        "code": row.code,
        "name": row.name,
        "relation": row.relation or "",
        "phone": row.phone or "",
        "notify_url": "",
        "kept_urls": len(row.notify_urls),
    }


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


@router.post("/admin/residents", response_model=None)
def register_resident(
    request: Request,
    services: ServicesDep,
    user: AdminUserDep,
    code: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=128)] = "",
    birth_year: Annotated[str, Form(max_length=8)] = "",
    address: Annotated[str, Form()] = "",
    phone: Annotated[str, Form(max_length=64)] = "",
    key_holder: Annotated[str, Form()] = "",
    conditions: Annotated[str, Form()] = "",
    medication: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    """Register (or update, by code) a resident, through the same path as the provisioning file."""
    form = {
        "code": code.strip(),
        "name": name.strip(),
        "birth_year": birth_year.strip(),
        "address": address,
        "phone": phone,
        "key_holder": key_holder,
        "conditions": conditions,
        "medication": medication,
    }
    checked = checks.resident_form(form)
    with services.sessions() as s, s.begin():
        if not checked.ok:
            return form_again(request, services, user, s, "register", form, checked)
        resident = ResidentIn(
            code=form["code"],
            name=form["name"],
            birth_year=checked.values["birth_year"],
            address=address or None,
            phone=checked.values["phone"],
            key_holder=key_holder or None,
            conditions=checks.split_list(conditions),
            medication=checks.split_list(medication),
        )
        existing = s.scalars(select(Resident).where(Resident.code == resident.code)).first()
        before = audit.snapshot(existing, audit.RESIDENT_FIELDS)
        if existing is not None:
            _keep_what_was_left_blank(resident, existing)
        apply(s, ProvisionFile(residents=[resident]))
        after = s.scalars(select(Resident).where(Resident.code == resident.code)).one()
        audit.record(
            s,
            actor_of(request, user),
            "resident.write",
            services.clock(),
            "resident",
            resident.code,
            before,
            audit.snapshot(after, audit.RESIDENT_FIELDS),
        )
    return _done()


def _caregiver_stored(row: Caregiver | None) -> dict[str, Any]:
    if row is None:
        return {}
    return {"name": row.name, "relation": row.relation, "phone": row.phone, "notify_url": list(row.notify_urls)}


@router.post("/admin/pairings", response_model=None)
def pair_caregiver(
    request: Request,
    services: ServicesDep,
    user: PairingAdminDep,
    resident: Annotated[str, Form(max_length=64)] = "",
    code: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=128)] = "",
    phone: Annotated[str, Form(max_length=64)] = "",
    relation: Annotated[str, Form(max_length=64)] = "",
    notify_url: Annotated[str, Form(max_length=4000)] = "",
) -> HTMLResponse | RedirectResponse:
    """Register a caregiver (or edit them, by code: a blank field keeps what is stored) and pair them last."""
    form = {
        "resident": resident.strip(),
        "code": code.strip(),
        "name": name,
        "phone": phone,
        "relation": relation,
        "notify_url": notify_url,
    }
    with services.sessions() as s, s.begin():
        target = s.scalars(select(Resident).where(Resident.code == form["resident"])).first()
        row = s.scalars(select(Caregiver).where(Caregiver.code == form["code"])).first()
        checked = checks.caregiver_form(form, existing=row is not None)
        if target is None and form["resident"]:
            checked.fail("resident", "unknown_resident", value=form["resident"])
        if not checked.ok:  # nothing was written: leaving the block commits nothing
            return form_again(request, services, user, s, "pair", form, checked)
        before = audit.snapshot(row, audit.CAREGIVER_FIELDS)
        kept = checks.keep_stored(
            {k: checked.values[k] for k in ("name", "relation", "phone", "notify_url")}, _caregiver_stored(row)
        )
        apply(
            s,
            ProvisionFile(
                caregivers=[
                    CaregiverIn(
                        code=form["code"],
                        name=kept["name"],
                        phone=kept["phone"],
                        relation=kept["relation"],
                        language=row.language if row else "zh-CN",
                        notify=kept["notify_url"] or [],
                    )
                ]
            ),
        )
        row = s.scalars(select(Caregiver).where(Caregiver.code == form["code"])).one()
        assert target is not None  # checked above
        audit.record(
            s,
            actor_of(request, user),
            "pairing.write",
            services.clock(),
            "caregiver",
            row.code,
            before,
            {**(audit.snapshot(row, audit.CAREGIVER_FIELDS) or {}), "resident": target.code},
        )
        already = s.scalars(
            select(Pairing).where(Pairing.resident_id == target.id, Pairing.caregiver_id == row.id)
        ).first()
        if already is None:
            rank = (s.scalar(select(func.max(Pairing.rank)).where(Pairing.resident_id == target.id)) or 0) + 1
            s.add(Pairing(resident_id=target.id, caregiver_id=row.id, rank=rank))
    return _done()


def form_again(
    request: Request,
    services: ServicesDep,
    user: Any,
    session: Any,
    which: str,
    form: dict[str, str],
    checked: checks.Checked,
) -> HTMLResponse:
    """The admin page again, with what was typed kept and each problem next to its field."""
    return page(
        request,
        services,
        "admin.html",
        status_code=422,
        user=user,
        homes=views.homes(session),
        error=None,
        saved=None,
        forms={which: form},
        checked={which: checked},
        families=checks.FAMILIES,
        roles=checks.ROLES,
    )
