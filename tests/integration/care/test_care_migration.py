"""The care record's migration goes up and down cleanly on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from server.db.migrate import differences, upgrade
from server.db.session import make_engine
from tests.integration.care.conftest import migrate

pytestmark = pytest.mark.integration
CARE_TABLES = {
    "resident_profiles",
    "profile_changes",
    "assessments",
    "helpers",
    "helper_plans",
    "contacts",
    "care_audit",
}
BEFORE = "c7dccc8dea97"


def test_care_migration_up_down_up(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= CARE_TABLES
        assert differences(engine) == []
        migrate(engine, "downgrade", BEFORE)
        tables = set(inspect(engine).get_table_names())
        assert not CARE_TABLES & tables and "residents" in tables
        migrate(engine, "upgrade", "head")
        assert set(inspect(engine).get_table_names()) >= CARE_TABLES
    finally:
        engine.dispose()
