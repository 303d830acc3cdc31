"""The care API over SQLite and the real PostgreSQL, the example installation imported, a clock moved by hand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from server.api.app import create_app
from server.auth import upsert_staff
from server.db.migrate import alembic_config
from server.db.session import create_schema, make_engine, session_factory
from server.links import LinkSigner
from server.provision import import_file
from server.services import Services
from server.settings import ServerSettings
from server.web import csrf
from tests.integration.desk import conftest as desk

database_url = desk.database_url  # every test here runs on SQLite and on the real PostgreSQL
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "provision.yaml"
# A Monday morning in Beijing (01:00 UTC = 09:00 CST).
SECRET = "test-secret-of-16-chars"
T0 = datetime(2027, 3, 1, 1, 0, tzinfo=UTC)


@dataclass
class Clock:
    """Time the test moves by hand."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move forward."""
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(database_url: str, clock: Clock) -> Iterator[Services]:
    settings = ServerSettings(database_url=database_url, secret_key=SECRET, embedded_broker=False)
    engine = make_engine(database_url)
    create_schema(engine)
    sessions = session_factory(engine)
    with sessions() as s, s.begin():
        import_file(s, EXAMPLE)
        import_file(s, EXAMPLE.with_name("demo-staff.yaml"))  # the demo accounts are not in the example
        upsert_staff(s, "coord", "coordinator", "协调员 周兰", "anxin-demo")
    yield Services(settings, sessions, LinkSigner(settings.secret_key, 60), None, lambda g, c: None, clock=clock)
    engine.dispose()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as c:
        yield c


def login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": "anxin-demo"})
    assert r.status_code == 200, r.text
    if "anxin_session" in r.cookies:  # pages: what their forms carry in the hidden csrf_token field
        client.headers["X-CSRF-Token"] = csrf.token_for(SECRET, r.cookies["anxin_session"])
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def migrate(engine: Engine, verb: str, target: str) -> None:
    """Run Alembic's `upgrade` or `downgrade` to `target` on the engine's database."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, verb)(cfg, target)


# A full resident profile as a coordinator types it (the API and the pages tests).
PROFILE = {
    "name": "李秀英",
    "phone": "010-6601 2345",
    "address": "北京市东城区和平里七区 5 号楼 302",
    "district": "东城区",
    "birth_date": "1942-05-03",
    "former_unit": "北京第二机床厂",
    "retirement": "退休",
    "rank": "高级工程师",
    "living_arrangement": "alone",
    "family": ["儿子 王强 139 0000 1111"],
    "key_holders": ["邻居 张阿姨 302 对门"],
    "conditions": ["高血压"],
    "medication": ["氨氯地平 5 mg"],
    "allergies": ["青霉素"],
    "family_doctor": "和平里社区卫生服务中心 刘医生",
    "doctor_contract_signed": "2026-01-10",
    "last_checkup": "2026-10-12",
    "interests": ["京剧"],
    "skills": ["书法"],
    "service_needs": ["助餐"],
    "hearing": "aid",
    "vision": "normal",
}
