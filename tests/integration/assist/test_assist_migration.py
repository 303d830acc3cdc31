"""The services migration goes up and down cleanly on SQLite and PostgreSQL, and matches the models."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from server.db.migrate import differences, upgrade
from server.db.session import make_engine
from tests.integration.care.conftest import migrate

pytestmark = pytest.mark.integration
TABLES = {"providers", "service_requests", "evaluations", "activities", "activity_signups", "notices"}
BEFORE = "e14a5c0b7d21"  # the revision before this one


def test_services_migration_up_down_up(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
        assert differences(engine) == []
        migrate(engine, "downgrade", BEFORE)
        tables = set(inspect(engine).get_table_names())
        assert not TABLES & tables and "contacts" in tables
        migrate(engine, "upgrade", "head")
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()
