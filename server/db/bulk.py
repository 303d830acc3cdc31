"""Bulk writes for ingest: PostgreSQL COPY (through a staging table for the duplicate filter), else
multi-row INSERT … ON CONFLICT DO NOTHING."""

from __future__ import annotations

import json
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.db.models import IngestedEvent, Reading

EVENT_COLUMNS = ("gateway_id", "seq", "lane", "gateway_ts", "received_at", "ts_corrected", "body")
READING_COLUMNS = ("resident_id", "gateway_id", "device", "metric", "ts", "values", "flags")
_JSON = frozenset({"body", "values", "flags"})
# The PostgreSQL type of each COPY column (JSON goes as its text): psycopg then skips choosing a
# dumper per value, which with orjson and tuples makes COPY about 2.5 times faster (docs/performance.md).
_COPY_TYPES = {
    "gateway_id": "text",
    "seq": "int8",
    "lane": "text",
    "gateway_ts": "timestamptz",
    "received_at": "timestamptz",
    "ts_corrected": "bool",
    "body": "text",
    "resident_id": "int8",
    "device": "text",
    "metric": "text",
    "ts": "timestamptz",
    "values": "text",
    "flags": "text",
}

# ON COMMIT DELETE ROWS: the staging rows vanish with the transaction; the table stays per connection.
_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS ingest_stage (gateway_id varchar(64), seq bigint, lane varchar(16), "
    "gateway_ts timestamptz, received_at timestamptz, ts_corrected boolean, body json) ON COMMIT DELETE ROWS"
)


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _json(value: Any) -> str | None:
    if value is None:
        return None
    if not value:
        return "[]" if isinstance(value, list) else "{}"
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # what orjson will not write (an integer past 64 bits) json still can
        return json.dumps(value, ensure_ascii=False)


def _driver(session: Session) -> Any:
    """psycopg's own connection under the session's (COPY is not in the DB-API)."""
    raw = session.connection().connection.driver_connection
    if raw is None:  # only a closed pool entry has none; the session's connection is open
        raise RuntimeError("the session's database connection is closed")
    return raw


def _copy(session: Session, table: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """COPY the rows in; their JSON columns come last in `columns`."""
    raw = _driver(session)
    plain = itemgetter(*(c for c in columns if c not in _JSON))
    as_json = [c for c in columns if c in _JSON]
    cols = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        copy.set_types([_COPY_TYPES[c] for c in columns])
        for row in rows:
            copy.write_row((*plain(row), *[_json(row[c]) for c in as_json]))


def insert_new_events(session: Session, rows: list[dict[str, Any]]) -> set[tuple[str, int]]:
    """Insert the (gateway, seq) rows not stored yet; returns those that were new."""
    if not rows:
        return set()
    if _is_pg(session):
        # Usually nothing is a duplicate: COPY straight in, under a savepoint. A resend after a lost
        # ack breaks the unique key; then the staging table filters (about a third slower).
        try:
            with session.begin_nested():
                _copy(session, "ingested_events", EVENT_COLUMNS, rows)
            return {(r["gateway_id"], r["seq"]) for r in rows}
        except Exception as exc:  # psycopg.errors.UniqueViolation; psycopg is only there with PostgreSQL
            if getattr(exc, "sqlstate", None) != "23505":
                raise
        raw = _driver(session)
        with raw.cursor() as cur:
            cur.execute(_STAGE)
        _copy(session, "ingest_stage", EVENT_COLUMNS, rows)
        cols = ", ".join(EVENT_COLUMNS)
        with raw.cursor() as cur:
            cur.execute(
                f"INSERT INTO ingested_events ({cols}) SELECT {cols} FROM ingest_stage "
                "ON CONFLICT (gateway_id, seq) DO NOTHING RETURNING gateway_id, seq"
            )
            new = {(g, q) for g, q in cur.fetchall()}
            cur.execute("DELETE FROM ingest_stage")  # several commits_many may share one transaction in tests
        return new
    stmt = (
        sqlite_insert(IngestedEvent)
        .on_conflict_do_nothing(index_elements=["gateway_id", "seq"])
        .returning(IngestedEvent.gateway_id, IngestedEvent.seq)
    )
    return {(g, q) for g, q in session.execute(stmt, rows)}


def insert_readings(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append readings."""
    if not rows:
        return
    if _is_pg(session):
        _copy(session, "readings", READING_COLUMNS, rows)
    else:
        session.execute(insert(Reading), rows)
