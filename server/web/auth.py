"""Who is signed in to the console: the staff session cookie, checked on every page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from server.api.deps import SESSION_COOKIE, ServicesDep, forbidden
from server.auth import AuthError, StaffIdentity, identity_for
from server.errors import ServerError
from server.permissions import allowed


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


def page_permit(action: str) -> Callable[[StaffIdentity], StaffIdentity]:
    """A page dependency: strangers are sent to sign in, roles the permission table refuses get 403."""

    def check(staff: Annotated[StaffIdentity, Depends(_identity)]) -> StaffIdentity:
        if not allowed(staff.role, action):
            raise forbidden(staff, action)
        return staff

    return check


SignedInDep = Annotated[StaffIdentity, Depends(_identity)]
ConsoleUserDep = Annotated[StaffIdentity, Depends(page_permit("console.use"))]
# The administration page: supervisors register residents; pairings and channels are the admin's (the table).
AdminUserDep = Annotated[StaffIdentity, Depends(page_permit("resident.write"))]
PairingAdminDep = Annotated[StaffIdentity, Depends(page_permit("pairing.write"))]
StaffAdminDep = Annotated[StaffIdentity, Depends(page_permit("staff.manage"))]
# The care record (profiles, assessments, helpers, contacts): coordinators run it; the desk and doctors read it.
CareReaderDep = Annotated[StaffIdentity, Depends(page_permit("service_record.read"))]
CareWriterDep = Annotated[StaffIdentity, Depends(page_permit("service_record.write"))]
