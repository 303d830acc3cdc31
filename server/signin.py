"""Signing in, for the API and the console alike: throttled, delayed per account, audited."""

from __future__ import annotations

import asyncio

from starlette.concurrency import run_in_threadpool

from server import audit, totp
from server.auth import AuthError, StaffIdentity, authenticate
from server.errors import ServerError
from server.services import Services


class Throttled(ServerError):
    """Too many failed sign-ins from this address: wait `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"登录失败次数过多，请 {retry_after} 秒后再试 / too many failed sign-ins from this address; "
            f"try again in {retry_after} s"
        )
        self.retry_after = retry_after


async def sign_in(
    services: Services, username: str, password: str, address: str | None, one_time_code: str | None = None
) -> StaffIdentity:
    """The account, if the password (and the one-time code, when on) is right; raises Throttled before
    looking, AuthError when wrong — the same answer for either, so a guesser learns nothing."""
    where = address or "unknown"
    retry = services.throttle.retry_after(where)
    if retry:
        raise Throttled(retry)
    delay = services.throttle.account_delay(username)
    if delay:
        await asyncio.sleep(delay)
    try:
        staff = await run_in_threadpool(_check, services, username, password, one_time_code)
    except AuthError:
        started = services.throttle.failed(where, username)
        await run_in_threadpool(
            _audit,
            services,
            "login.failed",
            username,
            None,
            address,
            "throttling this address for 15 min" if started else None,
        )
        raise
    services.throttle.succeeded(username)
    await run_in_threadpool(_audit, services, "login", username, staff.role, address, None)
    return staff


def _check(services: Services, username: str, password: str, one_time_code: str | None) -> StaffIdentity:
    with services.sessions() as s:
        staff = authenticate(s, username, password)
        if not totp.passes(staff, one_time_code):
            raise AuthError("wrong username or password")
        return StaffIdentity.of(staff)


def _audit(
    services: Services, action: str, username: str, role: str | None, address: str | None, reason: str | None
) -> None:
    with services.sessions() as s, s.begin():
        audit.record(
            s,
            audit.Actor(username[:128], role, address),
            action,
            services.clock(),
            "staff",
            username[:128],
            reason=reason,
        )
