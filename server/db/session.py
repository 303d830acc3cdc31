"""Engine and session factory, with SQLite tuned for a small server (WAL, busy timeout)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from server.errors import DatabaseUnavailable


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: ingest acknowledges a batch right after its commit, and the gateway then deletes it, so
    # the commit must survive a power cut (NORMAL in WAL mode may roll back the last commits).
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    """Create an engine for the database URL (no connection is made yet)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def create_schema(engine: Engine) -> None:
    """Bring the schema up to date with the Alembic migrations (server/migrations)."""
    from server.db.migrate import upgrade

    try:
        upgrade(engine)
    except OperationalError as exc:  # the first connection: say which database and why, in one line
        raise DatabaseUnavailable(unavailable_reason(engine, exc)) from exc


def missing_directory(url: URL) -> str | None:
    """One line when a SQLite file's directory does not exist (a typo is named, not created), else None."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        folder = Path(str(url.database)).expanduser().absolute().parent
        if not folder.is_dir():
            return (
                f"cannot open the database {url.render_as_string(hide_password=True)}: the directory {folder} "
                "does not exist (create it first)"
            )
    return None


def unavailable_reason(engine: Engine, exc: OperationalError) -> str:
    """One line for a database that cannot be opened: a missing directory is named as such."""
    url = engine.url.render_as_string(hide_password=True)
    return missing_directory(engine.url) or f"cannot open the database {url}: {str(exc.orig).strip().splitlines()[0]}"


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
