"""Alembic environment: the engine is handed in by server.db.migrate (or built from alembic.ini's URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from server.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run against the connection server.db.migrate passes in, or a URL from the command line."""
    connection = config.attributes.get("connection")
    if connection is None:
        url = config.get_main_option("sqlalchemy.url")
        if url is None:
            raise RuntimeError("no database: pass a connection from server.db.migrate or set sqlalchemy.url")
        engine = create_engine(url)
        with engine.connect() as conn:
            _run(conn)
        return
    _run(connection)


def _run(connection: Connection) -> None:
    # render_as_batch: SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
