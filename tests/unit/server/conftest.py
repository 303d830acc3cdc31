"""An API on a SQLite file with the example provisioning imported; no broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from anxin import protocol
from server.api.app import create_app
from server.db.session import create_schema, make_engine, session_factory
from server.links import LinkSigner
from server.provision import import_file
from server.services import Services
from server.settings import ServerSettings

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "provision.yaml"
DEMO_STAFF = EXAMPLE.with_name("demo-staff.yaml")  # the demo's accounts are not in the example file any more


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """Services over a fresh SQLite database holding the example file and the demo accounts; downlink recorded."""
    settings = ServerSettings(
        database_url=f"sqlite:///{tmp_path}/api.db", secret_key="test-secret-of-16-chars", embedded_broker=False
    )
    engine = make_engine(settings.database_url)
    create_schema(engine)
    sessions = session_factory(engine)
    with sessions() as s, s.begin():
        import_file(s, EXAMPLE)
        import_file(s, DEMO_STAFF)
    sent: list[tuple[str, protocol.Command]] = []
    svc = Services(settings, sessions, LinkSigner(settings.secret_key, 60), None, lambda g, c: sent.append((g, c)))
    svc.sent_commands = sent  # type: ignore[attr-defined]
    yield svc
    engine.dispose()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    """An HTTP client for the app (no network)."""
    with TestClient(create_app(services)) as c:
        yield c


def login(client: TestClient, username: str, password: str = "anxin-demo") -> dict[str, str]:
    """Sign in and return the Authorization header."""
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
