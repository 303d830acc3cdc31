"""The alarm desk on a real database — SQLite and the PostgreSQL server — with a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from firmware_sim.receiver import NotificationReceiver
from server import alarms as desk_ops
from server.db.models import Resident
from server.db.session import create_schema, make_engine, session_factory
from server.escalation import Escalator
from server.links import LinkSigner
from server.notify import Notifier
from server.presence import PresencePolicy
from server.provision import ProvisionFile, apply
from server.worker import DeskWorker

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


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


def world(receiver: NotificationReceiver, staff_url: str | None = None) -> dict:
    """One resident with two caregivers (zh-CN, then English), duty staff and a supervisor."""
    return {
        "caregivers": [
            {"code": "C1", "name": "李伟", "notify": [receiver.url("/C1")]},
            {"code": "C2", "name": "Anna Li", "language": "en", "notify": [receiver.url("/C2")]},
        ],
        "residents": [
            {
                "code": "R1",
                "name": "王秀英",
                "address": "德胜门内大街 12 号",
                "caregivers": [{"code": "C1", "ack_timeout_s": 60}, "C2"],
            }
        ],
        "gateways": [{"id": "gw-1", "resident": "R1"}],
        "staff": [
            {
                "username": "duty",
                "display_name": "值班员",
                "role": "staff",
                "password_hash": "x",
                "notify": [staff_url or receiver.url("/duty")],
            },
            {
                "username": "boss",
                "display_name": "Supervisor",
                "role": "supervisor",
                "password_hash": "x",
                "language": "en",
                "notify": [receiver.url("/boss")],
            },
            {
                "username": "doc",
                "display_name": "Doctor",
                "role": "doctor",
                "password_hash": "x",
                "notify": [receiver.url("/doc")],
            },
        ],
    }


def raise_sos(engine: Engine, at_s: float = 0, gateway: str = "gw-1", type_: str = "sos") -> int:
    """The gateway's alarm, as ingest applies it."""
    now = T0 + timedelta(seconds=at_s)
    with session_factory(engine)() as s, s.begin():
        resident = s.scalars(select(Resident)).first()
        change = desk_ops.apply_gateway_alarm(
            s,
            gateway,
            1,
            resident.id if resident else None,
            {"type": type_, "severity": "emergency", "device": "sos-button"},
            now,
            now,
        )
        return change.alarm.id


def paths(receiver: NotificationReceiver) -> list[str]:
    """Where the notifications went, in order."""
    return [r.path for r in receiver.received]
