"""What request handlers and workers share: settings, sessions, notifier, downlink, clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from sqlalchemy.orm import Session, sessionmaker

from anxin import protocol
from server.auth import TokenSigner
from server.events import EventHub
from server.links import LinkSigner
from server.notify import Notifier
from server.settings import ServerSettings
from server.throttle import LoginThrottle

Downlink = Callable[[str, protocol.Command], None]


def utc_now() -> datetime:
    """The real clock; tests inject their own."""
    return datetime.now(UTC)


@dataclass
class Services:
    """Handed to the API and workers; built once by the runtime."""

    settings: ServerSettings
    sessions: sessionmaker[Session]
    signer: LinkSigner
    notifier: Notifier | None
    downlink: Downlink
    clock: Callable[[], datetime] = field(default=utc_now)
    events: EventHub | None = None

    @cached_property
    def throttle(self) -> LoginThrottle:
        """Counts failed sign-ins of this process (server/throttle.py)."""
        return LoginThrottle(self.clock)

    @cached_property
    def tokens(self) -> TokenSigner:
        """Signs and checks staff bearer tokens with the server's secret."""
        return TokenSigner(self.settings.secret_key or "", self.settings.token_ttl_s)
