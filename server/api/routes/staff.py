"""Staff accounts for administrators: list, disable / enable, reset a password (sessions end at once)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from server import audit, totp
from server.api.deps import ServicesDep, SessionDep, actor_of, permit
from server.auth import AuthError, StaffIdentity, end_sessions, set_active, set_password, staff_by_username
from server.db.models import Staff

router = APIRouter(prefix="/staff", tags=["staff accounts"])
Admin = Annotated[StaffIdentity, Depends(permit("staff.manage"))]
Username = Annotated[str, Path(min_length=1, max_length=64)]


class AccountOut(BaseModel):
    """An account as an administrator sees it."""

    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str
    role: str
    active: bool


class ResetIn(BaseModel):
    """The new password (the policy: ≥ 10 characters, not a common one, not the username)."""

    password: str = Field(max_length=256)


@router.get("", response_model=list[AccountOut])
def accounts(session: SessionDep, _who: Admin) -> list[Staff]:
    """Every account."""
    return list(session.scalars(select(Staff).order_by(Staff.username)))


def change_account(
    services: ServicesDep,
    request: Request,
    who: StaffIdentity,
    username: str,
    action: str,
    active: bool | None = None,
    password: str | None = None,
    reset_totp: bool = False,
) -> Staff:
    """Disable, enable or reset a password; audited; raises AuthError (unknown account, weak password)."""
    with services.sessions() as s, s.begin():
        row = staff_by_username(s, username)
        before = {"active": row.active, "two_factor": row.totp_enabled}
        if active is not None:
            if not active and row.id == who.id:
                raise AuthError("you cannot disable your own account")
            set_active(row, active)
        if password is not None:
            set_password(row, password)
        if reset_totp:
            totp.reset(row)
            end_sessions(row)
        audit.record(
            s,
            actor_of(request, who),
            action,
            services.clock(),
            "staff",
            username,
            before,
            {"active": row.active, "two_factor": row.totp_enabled},
        )
        s.flush()
        s.expunge(row)
        return row


def _change(
    services: ServicesDep, request: Request, who: StaffIdentity, username: str, action: str, **change: Any
) -> Staff:
    try:
        return change_account(services, request, who, username, action, **change)
    except AuthError as exc:
        raise HTTPException(404 if str(exc).startswith("no account") else 422, detail=str(exc)) from exc


@router.post("/{username}/disable", response_model=AccountOut)
def disable(username: Username, services: ServicesDep, request: Request, who: Admin) -> Staff:
    """Disable an account: its sessions end now, sign-in is refused until it is enabled."""
    return _change(services, request, who, username, "staff.disable", active=False)


@router.post("/{username}/enable", response_model=AccountOut)
def enable(username: Username, services: ServicesDep, request: Request, who: Admin) -> Staff:
    """Enable a disabled account."""
    return _change(services, request, who, username, "staff.enable", active=True)


@router.post("/{username}/password", response_model=AccountOut)
def reset_password(username: Username, body: ResetIn, services: ServicesDep, request: Request, who: Admin) -> Staff:
    """Set a new password for someone (they then change it); their sessions end now."""
    return _change(services, request, who, username, "staff.password_reset", password=body.password)


@router.post("/{username}/totp/reset", response_model=AccountOut)
def reset_totp(username: Username, services: ServicesDep, request: Request, who: Admin) -> Staff:
    """Switch someone's second factor off (a lost phone); they sign in with the password and set it up again."""
    return _change(services, request, who, username, "staff.totp_reset", reset_totp=True)
