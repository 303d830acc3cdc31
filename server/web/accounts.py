"""The administrator's accounts page: disable, enable, reset a password (the same path as the API)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from server.api.deps import ServicesDep, SessionDep
from server.api.routes.staff import change_account
from server.auth import AuthError
from server.db.models import Staff
from server.web.auth import StaffAdminDep
from server.web.render import page

router = APIRouter(prefix="/console/accounts", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def accounts(request: Request, services: ServicesDep, session: SessionDep, user: StaffAdminDep) -> HTMLResponse:
    """Every account with its state and the actions on it."""
    rows = list(session.scalars(select(Staff).order_by(Staff.username)))
    return page(request, services, "accounts.html", user=user, accounts=rows,
                error=request.query_params.get("error"), saved=request.query_params.get("saved"))


def _done(error: str | None = None) -> RedirectResponse:
    return RedirectResponse(f"/console/accounts?error={quote(error)}" if error else "/console/accounts?saved=1", 303)


@router.post("/{username}/{action}")
def act(username: str, action: str, request: Request, services: ServicesDep, user: StaffAdminDep,
        password: Annotated[str, Form(max_length=256)] = "") -> RedirectResponse:
    """Disable, enable or set a new password; the account's sessions end at once."""
    changes = {"disable": ("staff.disable", {"active": False}), "enable": ("staff.enable", {"active": True}),
               "password": ("staff.password_reset", {"password": password})}
    if action not in changes:
        return _done(f"unknown action {action!r}")
    audited, change = changes[action]
    try:
        change_account(services, request, user, username, audited, **change)  # type: ignore[arg-type]
    except AuthError as exc:
        return _done(str(exc))
    return _done()
