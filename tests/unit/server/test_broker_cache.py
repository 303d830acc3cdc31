"""The embedded broker remembers a successful login briefly: a revoked or rotated password stops working."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from server.broker_plugin import CACHE_S, allowed


class Accounts:
    """What the broker asks: whether this password is right for this account and client id now."""

    def __init__(self) -> None:
        self.passwords = {"gw-r001": "s3cret-token"}
        self.asked = 0

    def authenticate(self, username: str, password: str, client_id: str) -> bool:
        self.asked += 1
        return self.passwords.get(username) == password and client_id == username


def test_a_revoked_password_is_refused_once_the_remembered_login_expires() -> None:
    accounts, cache, now = Accounts(), {}, [100.0]
    session = SimpleNamespace(username="gw-r001", client_id="gw-r001", password="s3cret-token")

    def login() -> bool:
        return asyncio.run(allowed(accounts, session, cache, monotonic=lambda: now[0]))  # type: ignore[arg-type]

    assert login() and login() and accounts.asked == 1, "a reconnect storm must not hash every time"
    del accounts.passwords["gw-r001"]  # anxin-server gateway revoke gw-r001
    now[0] += CACHE_S + 0.1
    assert not login(), "a revoked gateway logged in again"
    assert not login() and accounts.asked == 3, "a refusal is never remembered as a success"
