"""Who is signed in to the console: the one place the pages ask, so the scheme can be swapped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from server.api.deps import ServicesDep
from server.errors import ServerError
from server.services import Services

COOKIE = "anxin_session"
SESSION_TTL_S = 12 * 3600


class LoginRequired(ServerError):
    """The page needs a signed-in staff member; the app answers with a redirect to sign-in."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """A signed-in staff member as the pages need them."""

    username: str
    display_name: str
    role: str


def _serializer(services: Services) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(services.settings.secret_key, salt="anxin-console-session")


def authenticate(services: Services, username: str, password: str) -> ConsoleUser | None:
    """Check a user name and password; None when they do not match."""
    # Until staff accounts exist, any non-empty name signs in as duty staff: the demo needs no
    # set-up. This is the single function to replace with a password check against the staff table.
    name = username.strip()
    if not name or not password:
        return None
    return ConsoleUser(name, name, "staff")


def issue_cookie(services: Services, user: ConsoleUser) -> str:
    """The signed value of the session cookie."""
    return _serializer(services).dumps([user.username, user.display_name, user.role])


def user_from_cookie(services: Services, value: str | None) -> ConsoleUser | None:
    """The user a session cookie names, or None when it is missing, forged or expired."""
    if not value:
        return None
    try:
        username, display, role = _serializer(services).loads(value, max_age=SESSION_TTL_S)
    except (BadSignature, ValueError, TypeError):
        return None
    return ConsoleUser(str(username), str(display), str(role))


def console_user(request: Request, services: ServicesDep) -> ConsoleUser:
    """The signed-in staff member, or a redirect to the sign-in page."""
    user = user_from_cookie(services, request.cookies.get(COOKIE))
    if user is None:
        raise LoginRequired(str(request.url.path))
    return user


ConsoleUserDep = Annotated[ConsoleUser, Depends(console_user)]
