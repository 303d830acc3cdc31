"""A provisioned site for the page tests (no browser, no broker): staff of every role, one resident and
caregiver, the clock fixed at `NOW`. Its `services` and `client` fixtures replace the API conftest's in the
modules that import them."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from server.api.app import create_app
from server.auth import hash_password, upsert_staff
from server.db.session import create_schema, make_engine, session_factory
from server.events import EventHub, watch
from server.links import LinkSigner
from server.provision import CaregiverIn, ProvisionFile, ResidentIn, apply
from server.services import Services
from server.settings import ServerSettings
from server.web import csrf

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@functools.cache
def password_hash(username: str) -> str:
    """Argon2 is slow on purpose: hash each test account's password once per run."""
    return hash_password("pw-" + username)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """The site's services over a fresh SQLite file; commands to homes are kept in `svc.sent`."""
    engine = make_engine(f"sqlite:///{tmp_path}/web.db")
    create_schema(engine)
    sessions = session_factory(engine)
    hub = EventHub()
    watch(sessions, hub)
    sent: list[tuple[str, Any]] = []
    svc = Services(
        ServerSettings(secret_key="k", database_url="sqlite://"),
        sessions,
        LinkSigner("k", 3600),
        None,
        lambda gw, cmd: sent.append((gw, cmd)),
        clock=lambda: NOW,
        events=hub,
    )
    svc.sent = sent  # type: ignore[attr-defined]
    with sessions() as s, s.begin():
        apply(
            s,
            ProvisionFile(
                caregivers=[CaregiverIn(code="C1", name="李伟", relation="儿子")],
                residents=[
                    ResidentIn(
                        code="R1", name="王秀英", address="德胜门内大街 12 号", birth_year=1936, caregivers=["C1"]
                    )
                ],
            ),
        )
        for username, name, role in (
            ("duty", "值班员 赵敏", "staff"),
            ("doc", "王医生", "doctor"),
            ("boss", "主管 孙强", "supervisor"),
            ("root", "管理员", "admin"),
        ):
            upsert_staff(s, username, role, name, password_hash=password_hash(username))
    yield svc
    engine.dispose()


@pytest.fixture
def client(services: Services) -> TestClient:
    """An HTTP client for the site (no network)."""
    return TestClient(create_app(services))


def signed_in(client: TestClient, username: str = "duty") -> TestClient:
    """Sign `username` in on the console; the client then carries the session and its CSRF token."""
    r = client.post("/console/login", data={"username": username, "password": "pw-" + username}, follow_redirects=False)
    assert r.status_code == 303 and "anxin_session" in r.cookies
    # What the pages' forms carry in their hidden csrf_token field (server/web/csrf.py).
    client.headers["X-CSRF-Token"] = csrf.token_for("k", r.cookies["anxin_session"])
    return client
