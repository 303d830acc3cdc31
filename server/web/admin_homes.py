"""Adding a home's gateway and its devices from the admin page (until now: YAML or CLI only), including
pairing a device the gateway reported as unknown. Each form is checked field by field, audited."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from server import audit, gateway_credentials
from server.api.deps import ServicesDep, actor_of
from server.auth import StaffIdentity
from server.db.models import Device, Gateway, Resident
from server.provision import DeviceIn, GatewayIn, ProvisionFile, apply
from server.web.admin import form_again
from server.web.admin_checks import FAMILIES, ROLES, Checked, check_required
from server.web.auth import page_permit
from server.web.render import page

router = APIRouter(prefix="/console/admin", include_in_schema=False)
GatewayAdminDep = Annotated[StaffIdentity, Depends(page_permit("gateway.write"))]

_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


def gateway_form(form: dict[str, str]) -> Checked:
    """A gateway id (lower case letters, digits, - _ .) and the resident whose home it is."""
    checked = Checked()
    check_required(checked, form, "gateway_id", "resident")
    if form.get("gateway_id") and not _ID.fullmatch(form["gateway_id"]):
        checked.fail("gateway_id", "bad_id", value=form["gateway_id"])
    return checked


def device_form(form: dict[str, str]) -> Checked:
    """A device: its gateway, name, family and role from the lists the gateway understands."""
    checked = Checked()
    check_required(checked, form, "gateway", "name", "family", "role")
    if form.get("family") and form["family"] not in FAMILIES:
        checked.fail("family", "bad_choice", value=form["family"])
    if form.get("role") and form["role"] not in ROLES:
        checked.fail("role", "bad_choice", value=form["role"])
    return checked


@router.post("/gateways", response_model=None)
def add_gateway(
    request: Request,
    services: ServicesDep,
    user: GatewayAdminDep,
    gateway_id: Annotated[str, Form(max_length=64)] = "",
    resident: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse | RedirectResponse:
    """Register a home's gateway for a resident."""
    form = {"gateway_id": gateway_id.strip(), "resident": resident.strip()}
    checked = gateway_form(form)
    with services.sessions() as s, s.begin():
        if form["resident"] and s.scalars(select(Resident).where(Resident.code == form["resident"])).first() is None:
            checked.fail("resident", "unknown_resident", value=form["resident"])
        existing = s.get(Gateway, form["gateway_id"]) if form["gateway_id"] else None
        if existing is not None:
            checked.fail("gateway_id", "exists", value=form["gateway_id"])
        if not checked.ok:
            return form_again(request, services, user, s, "gateway", form, checked)
        apply(s, ProvisionFile(gateways=[GatewayIn(id=form["gateway_id"], resident=form["resident"])]))
        # The central broker lets in only provisioned gateways: the new one gets its credentials now, shown
        # once on this page (stored hashed), as `anxin-server gateway add` prints them.
        gateway = s.get(Gateway, form["gateway_id"])
        assert gateway is not None  # just written by apply()
        password = gateway_credentials.issue(s, gateway)
        config = gateway_credentials.gateway_yaml(
            s, gateway, password, services.settings.mqtt.host, services.settings.mqtt.port
        )
        audit.record(
            s,
            actor_of(request, user),
            "gateway.write",
            services.clock(),
            "gateway",
            form["gateway_id"],
            None,
            {**form, "credentials": "issued"},
        )
    return page(request, services, "gateway_added.html", user=user, gateway_id=form["gateway_id"], config=config)


@router.post("/devices", response_model=None)
def add_device(
    request: Request,
    services: ServicesDep,
    user: GatewayAdminDep,
    gateway: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=128)] = "",
    family: Annotated[str, Form(max_length=32)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    model: Annotated[str, Form(max_length=64)] = "",
    room: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse | RedirectResponse:
    """Pair a device with a gateway (e.g. one the gateway reported as unknown)."""
    form: dict[str, Any] = {
        "gateway": gateway.strip(),
        "name": name.strip(),
        "family": family,
        "role": role,
        "model": model.strip(),
        "room": room.strip(),
    }
    checked = device_form(form)
    with services.sessions() as s, s.begin():
        if form["gateway"] and s.get(Gateway, form["gateway"]) is None:
            checked.fail("gateway", "unknown_gateway", value=form["gateway"])
        elif (
            form["name"]
            and s.scalars(
                select(Device).where(Device.gateway_id == form["gateway"], Device.name == form["name"])
            ).first()
            is not None
        ):
            checked.fail("name", "exists", value=form["name"])
        if not checked.ok:
            return form_again(request, services, user, s, "device", form, checked)
        device = DeviceIn(
            name=form["name"],
            family=form["family"],
            role=form["role"],
            model=form["model"] or None,
            room=form["room"] or None,
        )
        apply(s, ProvisionFile(gateways=[GatewayIn(id=form["gateway"], devices=[device])]))
        audit.record(
            s,
            actor_of(request, user),
            "device.write",
            services.clock(),
            "device",
            f"{form['gateway']}/{form['name']}",
            None,
            form,
        )
    return RedirectResponse("/console/admin?saved=1", 303)
