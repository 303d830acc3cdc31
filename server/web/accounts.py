"""The administrator's accounts page: disable, enable, reset a password (the same path as the API)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from server import audit
from server.api.deps import ServicesDep, SessionDep, actor_of
from server.api.routes.staff import change_account
from server.auth import AuthError, upsert_staff
from server.db.models import Staff
from server.permissions import ROLES
from server.web import admin_checks as checks
from server.web.auth import StaffAdminDep
from server.web.render import page

router = APIRouter(prefix="/console/accounts", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def accounts(request: Request, services: ServicesDep, session: SessionDep, user: StaffAdminDep) -> HTMLResponse:
    """Every account with its state and the actions on it."""
    rows = list(session.scalars(select(Staff).order_by(Staff.username)))
    return page(
        request,
        services,
        "accounts.html",
        user=user,
        accounts=rows,
        form={},
        checked=None,
        roles=ROLES,
        error=request.query_params.get("error"),
        saved=request.query_params.get("saved"),
    )


def _done(error: str | None = None) -> RedirectResponse:
    return RedirectResponse(f"/console/accounts?error={quote(error)}" if error else "/console/accounts?saved=1", 303)


@router.post("", response_model=None)
def create(
    request: Request,
    services: ServicesDep,
    user: StaffAdminDep,
    username: Annotated[str, Form(max_length=64)] = "",
    display_name: Annotated[str, Form(max_length=128)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    phone: Annotated[str, Form(max_length=64)] = "",
    notify_url: Annotated[str, Form(max_length=4000)] = "",
) -> HTMLResponse | RedirectResponse:
    """A new staff account: each field checked next to itself, the password by the same rules as the CLI."""
    form = {
        "username": username.strip(),
        "display_name": display_name.strip(),
        "role": role,
        "phone": phone,
        "notify_url": notify_url,
    }
    checked = checks.account_form(form)
    with services.sessions() as s, s.begin():
        if form["username"] and s.scalars(select(Staff).where(Staff.username == form["username"])).first():
            checked.fail("username", "exists", value=form["username"])
        if checked.ok:
            try:
                row = upsert_staff(
                    s,
                    form["username"],
                    role,
                    form["display_name"] or None,
                    password=password,
                    phone=checked.values["phone"],
                    notify_urls=checked.values["notify_url"],
                )
            except AuthError as exc:
                checked.fail("password", "bad_password", value=str(exc))
        if not checked.ok:
            rows = list(s.scalars(select(Staff).order_by(Staff.username)))
            return page(
                request,
                services,
                "accounts.html",
                status_code=422,
                user=user,
                accounts=rows,
                error=None,
                saved=None,
                form=form,
                checked=checked,
                roles=ROLES,
            )
        s.flush()
        audit.record(
            s,
            actor_of(request, user),
            "staff.create",
            services.clock(),
            "staff",
            row.username,
            None,
            {
                "username": row.username,
                "role": row.role,
                "display_name": row.display_name,
                "phone": row.phone,
                "notify_urls": row.notify_urls,
            },
        )
    return _done()


@router.post("/{username}/{action}")
def act(
    username: str,
    action: str,
    request: Request,
    services: ServicesDep,
    user: StaffAdminDep,
    password: Annotated[str, Form(max_length=256)] = "",
) -> RedirectResponse:
    """Disable, enable or set a new password; the account's sessions end at once."""
    changes: dict[str, tuple[str, dict[str, Any]]] = {
        "disable": ("staff.disable", {"active": False}),
        "enable": ("staff.enable", {"active": True}),
        "password": ("staff.password_reset", {"password": password}),
    }
    if action not in changes:
        return _done(f"unknown action {action!r}")
    audited, change = changes[action]
    try:
        change_account(services, request, user, username, audited, **change)
    except AuthError as exc:
        return _done(str(exc))
    return _done()
