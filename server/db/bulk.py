"""Bulk writes for ingest: PostgreSQL COPY (through a staging table for the duplicate filter), else
multi-row INSERT … ON CONFLICT DO NOTHING."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert

from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.db.models import IngestedEvent, Reading

EVENT_COLUMNS = ("gateway_id", "seq", "lane", "gateway_ts", "received_at", "ts_corrected", "body")
READING_COLUMNS = ("resident_id", "gateway_id", "device", "metric", "ts", "values", "flags")
_JSON = frozenset({"body", "values", "flags"})

# ON COMMIT DELETE ROWS: the staging rows vanish with the transaction; the table stays per connection.
_STAGE = ("CREATE TEMP TABLE IF NOT EXISTS ingest_stage (gateway_id varchar(64), seq bigint, lane varchar(16), "
          "gateway_ts timestamptz, received_at timestamptz, ts_corrected boolean, body json) ON COMMIT DELETE ROWS")


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _json(value: Any) -> str | None:
    if value is None:
        return None
    if not value:
        return "[]" if isinstance(value, list) else "{}"
    return json.dumps(value, ensure_ascii=False)


def _copy(session: Session, table: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    raw = session.connection().connection.driver_connection
    cols = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([_json(row[c]) if c in _JSON else row[c] for c in columns])


def insert_new_events(session: Session, rows: list[dict[str, Any]]) -> set[tuple[str, int]]:
    """Insert the (gateway, seq) rows not stored yet; returns those that were new."""
    if not rows:
        return set()
    if _is_pg(session):
        raw = session.connection().connection.driver_connection
        with raw.cursor() as cur:
            cur.execute(_STAGE)
        _copy(session, "ingest_stage", EVENT_COLUMNS, rows)
        cols = ", ".join(EVENT_COLUMNS)
        with raw.cursor() as cur:
            cur.execute(f"INSERT INTO ingested_events ({cols}) SELECT {cols} FROM ingest_stage "
                        "ON CONFLICT (gateway_id, seq) DO NOTHING RETURNING gateway_id, seq")
            new = {(g, q) for g, q in cur.fetchall()}
            cur.execute("DELETE FROM ingest_stage")  # several commits_many may share one transaction in tests
        return new
    stmt = sqlite_insert(IngestedEvent).on_conflict_do_nothing(index_elements=["gateway_id", "seq"]).returning(
        IngestedEvent.gateway_id, IngestedEvent.seq)
    return {(g, q) for g, q in session.execute(stmt, rows)}


def insert_readings(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append readings."""
    if not rows:
        return
    if _is_pg(session):
        _copy(session, "readings", READING_COLUMNS, rows)
    else:
        session.execute(insert(Reading), rows)



