"""The real app over a real database (SQLite file or PostgreSQL) with the clock fixed at `NOW`, for the
doctor's pages and API: the trends tests, the follow-up record and the PostgreSQL run share it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from server.api.app import create_app
from server.db.session import create_schema, make_engine, session_factory
from server.links import LinkSigner
from server.services import Services
from server.settings import ServerSettings
from server.web import csrf
from tests.unit.trends.build import NOW


def make_client(database_url: str) -> tuple[TestClient, sessionmaker[Session]]:
    """The real app over a real database, with the clock fixed at NOW."""
    engine = make_engine(database_url)
    create_schema(engine)
    sessions = session_factory(engine)
    services = Services(
        ServerSettings(database_url=database_url, secret_key="t"),
        sessions,
        LinkSigner("t", 60),
        None,
        lambda _g, _c: None,
        clock=lambda: NOW,
    )
    return TestClient(create_app(services)), sessions


def sign_in(client: TestClient, username: str) -> None:
    """Sign in; the session cookie then rides on every request."""
    r = client.post("/api/v1/auth/token", data={"username": username, "password": "pw"})
    assert r.status_code == 200, r.text
    if "anxin_session" in r.cookies:  # pages' forms carry this token in their hidden csrf_token field
        client.headers["X-CSRF-Token"] = csrf.token_for("t", r.cookies["anxin_session"])
