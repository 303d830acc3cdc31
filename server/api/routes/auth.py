"""Signing in: the OAuth2 password flow, who am I, signing out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response
from fastapi.security import OAuth2PasswordRequestForm

from server.api.deps import CurrentStaff, ServicesDep, clear_session_cookie, set_session_cookie
from server.api.schemas import StaffOut, TokenOut
from server.auth import AuthError, StaffIdentity, authenticate

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut)
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], services: ServicesDep,
          response: Response) -> TokenOut:
    """Exchange username and password for a bearer token (also set as the `anxin_session` cookie)."""
    try:
        with services.sessions() as s:
            staff = StaffIdentity.of(authenticate(s, form.username, form.password))
    except AuthError as exc:
        raise HTTPException(401, detail=str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
    issued = services.tokens.issue(staff)
    set_session_cookie(response, issued, services.tokens.ttl_s)
    return TokenOut(access_token=issued, expires_in=services.tokens.ttl_s, staff=StaffOut.model_validate(staff))


@router.get("/me", response_model=StaffOut)
def me(staff: CurrentStaff) -> StaffOut:
    """The signed-in account."""
    return StaffOut.model_validate(staff)


@router.post("/logout", status_code=204)
def logout(response: Response) -> None:
    """Forget the session cookie (bearer tokens simply expire)."""
    clear_session_cookie(response)
