"""The alarm desk on a real database — SQLite and the PostgreSQL server — with a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from server.db.session import create_schema, make_engine, session_factory
from server.escalation import Escalator
from server.links import LinkSigner
from server.notify import Notifier
from server.presence import PresencePolicy
from server.provision import ProvisionFile, apply
from server.worker import DeskWorker

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/desk.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine with the schema created."""
    e = make_engine(database_url)
    create_schema(e)
    yield e
    e.dispose()


@dataclass
class Clock:
    """Time the test moves by hand."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move forward and return the new time."""
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class Desk:
    """A desk worker and what it needs, driven round by round."""

    sessions: sessionmaker[Session]
    worker: DeskWorker
    clock: Clock
    signer: LinkSigner
    rounds: list[int] = field(default_factory=list)

    def settle(self) -> int:
        """Run rounds at the current time until nothing is left to do; returns the work done."""
        total = 0
        for _ in range(50):
            done = self.worker.run_once(self.clock.now)
            total += done
            if not done:
                return total
        raise AssertionError("the desk never settled")

    def at(self, seconds_after_t0: float) -> int:
        """Jump to T0 + seconds and settle."""
        self.clock.now = T0 + timedelta(seconds=seconds_after_t0)
        return self.settle()


def make_desk(engine: Engine, clock: Clock | None = None, **notifier_kw: object) -> Desk:
    """A desk over the engine (a new one is like a restarted process)."""
    sessions = session_factory(engine)
    signer = LinkSigner("test-secret", 3600)
    clock = clock or Clock()
    notifier = Notifier(sessions, signer, "http://anxin.test", workers=4, **notifier_kw)  # type: ignore[arg-type]
    worker = DeskWorker(sessions, Escalator(120, 300), notifier, PresencePolicy(), clock)
    return Desk(sessions, worker, clock, signer)


def provision(engine: Engine, doc: dict) -> None:
    """Apply a provisioning document."""
    with session_factory(engine)() as s, s.begin():
        apply(s, ProvisionFile.model_validate(doc))
