"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect

from server.db.migrate import differences, upgrade

pytestmark = pytest.mark.integration


def test_autogenerate_finds_no_difference_between_models_and_migrations(engine: Engine) -> None:
    diff = differences(engine)
    assert diff == [], f"models and migrations disagree; write a revision (see server/alembic.ini): {diff}"


def test_upgrade_is_idempotent_and_records_the_revision(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    assert "alembic_version" in inspect(engine).get_table_names()
    assert {"alarms", "staff", "notification_jobs", "duty_shifts"} <= set(inspect(engine).get_table_names())


def test_a_database_from_before_migrations_is_refused_with_a_clear_message(tmp_path) -> None:
    from sqlalchemy import create_engine

    from server.db.migrate import MigrationError
    from server.db.models import Base

    old = create_engine(f"sqlite:///{tmp_path}/old.db")
    Base.metadata.create_all(old)
    with pytest.raises(MigrationError, match="before schema migrations"):
        upgrade(old)
    old.dispose()
