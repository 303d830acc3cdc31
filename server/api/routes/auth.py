"""Signing in: the OAuth2 password flow, who am I, signing out, changing one's password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from server import audit, totp
from server.api.deps import (
    CurrentStaff,
    ServicesDep,
    actor_of,
    clear_session_cookie,
    client_address,
    set_session_cookie,
)
from server.api.schemas import StaffOut, TokenOut
from server.auth import AuthError, end_sessions, set_password, verify_password
from server.db.models import Staff
from server.signin import Throttled, sign_in
from server.web import csrf

router = APIRouter(prefix="/auth", tags=["auth"])


class PasswordIn(BaseModel):
    """The current password and the new one (at least 10 characters, not a common one, not the username)."""

    current: str = Field(max_length=256)
    new: str = Field(max_length=256)


@router.post("/token", response_model=TokenOut, responses={429: {"description": "too many failed sign-ins"}})
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    services: ServicesDep,
    request: Request,
    response: Response,
    totp_code: Annotated[
        str | None, Form(alias="totp", max_length=12, description="one-time code, when two-factor is on")
    ] = None,
) -> TokenOut:
    """Exchange username and password (and the one-time code, when on) for a bearer token (also the cookie)."""
    try:
        staff = await sign_in(services, form.username, form.password, client_address(request), totp_code)
    except Throttled as exc:
        raise HTTPException(429, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}) from exc
    except AuthError as exc:
        raise HTTPException(401, detail=str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
    issued = services.tokens.issue(staff)
    set_session_cookie(response, issued, services.tokens.ttl_s)
    return TokenOut(
        access_token=issued,
        expires_in=services.tokens.ttl_s,
        staff=StaffOut.model_validate(staff),
        csrf_token=csrf.token_for(services.settings.secret_key or "", issued),
    )


@router.get("/me", response_model=StaffOut)
def me(staff: CurrentStaff) -> StaffOut:
    """The signed-in account."""
    return StaffOut.model_validate(staff)


@router.post("/logout", status_code=204)
def logout(staff: CurrentStaff, services: ServicesDep, request: Request, response: Response) -> None:
    """End this account's sessions at once (every token and cookie issued so far stops working)."""
    with services.sessions() as s, s.begin():
        row = s.get(Staff, staff.id)
        if row is not None:
            end_sessions(row)
            audit.record(s, actor_of(request, staff), "logout", services.clock(), "staff", staff.username)
    clear_session_cookie(response)


class CodeIn(BaseModel):
    """A code from the authenticator app."""

    code: str = Field(max_length=12)


@router.post("/totp/setup")
def totp_setup(staff: CurrentStaff, services: ServicesDep, request: Request) -> dict[str, str]:
    """Start two-factor sign-in (administrators, supervisors): scan the URI, then confirm with a code."""
    with services.sessions() as s, s.begin():
        row = s.get(Staff, staff.id)
        if row is None:  # the account was removed since this request signed in
            raise HTTPException(401, detail="no such account")
        try:
            uri = totp.start(row)
        except totp.TotpError as exc:
            raise HTTPException(403, detail=str(exc)) from exc
        audit.record(s, actor_of(request, staff), "totp.setup", services.clock(), "staff", staff.username)
        return {"otpauth_uri": uri}


@router.post("/totp/confirm", status_code=204)
def totp_confirm(body: CodeIn, staff: CurrentStaff, services: ServicesDep, request: Request) -> None:
    """Turn two-factor sign-in on with a code the app shows; from now on sign-in asks for one."""
    with services.sessions() as s, s.begin():
        row = s.get(Staff, staff.id)
        if row is None:  # the account was removed since this request signed in
            raise HTTPException(401, detail="no such account")
        try:
            totp.confirm(row, body.code)
        except totp.TotpError as exc:
            raise HTTPException(422, detail=str(exc)) from exc
        audit.record(s, actor_of(request, staff), "totp.enable", services.clock(), "staff", staff.username)


@router.post("/password", status_code=204)
def change_password(
    body: PasswordIn, staff: CurrentStaff, services: ServicesDep, request: Request, response: Response
) -> None:
    """Change one's own password; every session of the account ends, sign in again."""
    with services.sessions() as s, s.begin():
        row = s.get(Staff, staff.id)
        if row is None or not verify_password(row.password_hash, body.current):
            raise HTTPException(403, detail="the current password is wrong")
        try:
            set_password(row, body.new)
        except AuthError as exc:
            raise HTTPException(422, detail=str(exc)) from exc
        audit.record(s, actor_of(request, staff), "password.change", services.clock(), "staff", staff.username)
    clear_session_cookie(response)
