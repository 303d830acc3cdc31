"""Who is signed in to the console: the staff session cookie, checked on every page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from server.api.deps import SESSION_COOKIE, ServicesDep
from server.auth import CARE_READ_ROLES, CARE_WRITE_ROLES, DESK_ROLES, AuthError, StaffIdentity, identity_for
from server.errors import ServerError

# Registering residents and pairing caregivers changes who gets called: not every desk account may.
ADMIN_ROLES = ("supervisor", "admin")


class LoginRequired(ServerError):
    """The page needs a signed-in staff member; the app answers with a redirect to sign-in."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def _identity(request: Request, services: ServicesDep) -> StaffIdentity:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired(str(request.url.path))
    try:
        with services.sessions() as s:
            return identity_for(s, services.tokens, token)
    except AuthError as exc:
        raise LoginRequired(str(request.url.path)) from exc


def console_user(staff: Annotated[StaffIdentity, Depends(_identity)]) -> StaffIdentity:
    """A signed-in desk account (staff, supervisor, admin); others are refused, strangers sent to sign in."""
    if staff.role not in DESK_ROLES:
        raise HTTPException(403, detail=f"the duty console is for {', '.join(DESK_ROLES)}; you are {staff.role}")
    return staff


def admin_user(staff: Annotated[StaffIdentity, Depends(_identity)]) -> StaffIdentity:
    """A signed-in supervisor or administrator."""
    if staff.role not in ADMIN_ROLES:
        raise HTTPException(403, detail=f"administration needs the role {' or '.join(ADMIN_ROLES)}")
    return staff


def care_reader(staff: Annotated[StaffIdentity, Depends(_identity)]) -> StaffIdentity:
    """A signed-in account that may read the care record (coordinators, the desk, doctors)."""
    if staff.role not in CARE_READ_ROLES:
        raise HTTPException(403, detail=f"the care record is for {', '.join(CARE_READ_ROLES)}; you are {staff.role}")
    return staff


def care_writer(staff: Annotated[StaffIdentity, Depends(_identity)]) -> StaffIdentity:
    """A signed-in coordinator, supervisor or administrator: they change the care record."""
    if staff.role not in CARE_WRITE_ROLES:
        raise HTTPException(403, detail=f"changing the care record needs the role {' or '.join(CARE_WRITE_ROLES)}")
    return staff


ConsoleUserDep = Annotated[StaffIdentity, Depends(console_user)]
AdminUserDep = Annotated[StaffIdentity, Depends(admin_user)]
CareReaderDep = Annotated[StaffIdentity, Depends(care_reader)]
CareWriterDep = Annotated[StaffIdentity, Depends(care_writer)]
