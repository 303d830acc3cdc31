"""Request dependencies, as Annotated types: services, a session, and who is asking."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, Response
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from server.audit import Actor
from server.auth import AuthError, StaffIdentity, identity_for
from server.permissions import allowed, roles_for
from server.services import Services

SESSION_COOKIE = "anxin_session"

# auto_error=False: the token may come from the cookie instead (server-rendered pages).
_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_services(request: Request) -> Services:
    """The runtime's shared services."""
    services: Services = request.app.state.services  # set once by create_app
    return services


def get_session(services: Annotated[Services, Depends(get_services)]) -> Iterator[Session]:
    """A database session for one request."""
    with services.sessions() as session:
        yield session


ServicesDep = Annotated[Services, Depends(get_services)]
SessionDep = Annotated[Session, Depends(get_session)]
# Ids fit the database's integer columns; anything larger is a 422, not a driver overflow.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def as_utc(at: datetime | None) -> datetime | None:
    """A query time in UTC (naive means UTC): SQLite compares stored UTC times as text, without zones."""
    if at is None:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def current_staff(
    request: Request, services: ServicesDep, bearer: Annotated[str | None, Depends(_bearer)]
) -> StaffIdentity:
    """The signed-in account, from `Authorization: Bearer` or the `anxin_session` cookie; else 401."""
    token = bearer or request.cookies.get(SESSION_COOKIE)
    if not token:
        raise _unauthorized("sign in first (Authorization: Bearer <token> from POST /api/v1/auth/token)")
    try:
        with services.sessions() as s:
            return identity_for(s, services.tokens, token)
    except AuthError as exc:
        raise _unauthorized(str(exc)) from exc


CurrentStaff = Annotated[StaffIdentity, Depends(current_staff)]


def forbidden(staff: StaffIdentity, action: str) -> HTTPException:
    """The 403 for a role the permission table does not grant this action."""
    return HTTPException(403, detail=f"this needs the role {' or '.join(roles_for(action))}; you are {staff.role}")


def permit(action: str) -> Callable[[StaffIdentity], StaffIdentity]:
    """A dependency admitting the roles server/permissions.py grants this action (401 / 403 otherwise)."""

    def check(staff: CurrentStaff) -> StaffIdentity:
        if not allowed(staff.role, action):
            raise forbidden(staff, action)
        return staff

    return check


def client_address(request: Request) -> str | None:
    """The client's address (the proxy's forwarded one when the proxy is trusted: server/web/guard.py)."""
    return request.client.host if request.client else None


def actor_of(request: Request, staff: StaffIdentity | None) -> Actor:
    """Who is acting, for the audit."""
    return Actor(staff.username if staff else None, staff.role if staff else None, client_address(request))


def set_session_cookie(response: Response, token: str, max_age: int) -> None:
    """Put the token in an HttpOnly cookie so pages rendered by the server are signed in too (Secure over HTTPS)."""
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax", path="/")


def clear_session_cookie(response: Response) -> None:
    """Sign the browser out."""
    response.delete_cookie(SESSION_COOKIE, path="/")


def record_read(
    services: Services,
    request: Request,
    staff: StaffIdentity,
    action: str,
    target_kind: str,
    target: str,
    detail: dict[str, object] | None = None,
) -> None:
    """Audit a look at personal health data (its own short transaction: a read changes nothing else)."""
    from server import audit

    with services.sessions() as s, s.begin():
        audit.record(s, actor_of(request, staff), action, services.clock(), target_kind, target, after=detail)
