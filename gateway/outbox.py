"""The durable outbox: every event is on disk before anything else happens to it."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from gateway.errors import OutboxError

LANE_ORDER = {"alarm": 0, "event": 1, "gap": 1, "reading": 2}

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    lane INTEGER NOT NULL,
    lane_name TEXT NOT NULL,
    ts REAL NOT NULL,
    mono REAL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_lane ON outbox (lane, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored event, identified for ever by its sequence number."""

    seq: int
    lane: str
    ts: float
    mono: float | None
    body: dict[str, Any]


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating) an outbox database in WAL mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(SCHEMA)
    return conn


class Outbox:
    """Alarms are committed with synchronous=FULL; readings in batches with NORMAL."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()

    def _insert(self, rows: Sequence[tuple[str, float, float | None, dict[str, Any]]], sync: str) -> list[int]:
        try:
            with self._lock:
                self._conn.execute(f"PRAGMA synchronous={sync}")
                self._conn.execute("BEGIN IMMEDIATE")
                seqs = []
                for lane, ts, mono, body in rows:
                    cur = self._conn.execute(
                        "INSERT INTO outbox (lane, lane_name, ts, mono, body) VALUES (?, ?, ?, ?, ?)",
                        (LANE_ORDER[lane], lane, ts, mono, json.dumps(body, ensure_ascii=False)),
                    )
                    seqs.append(int(cur.lastrowid or 0))
                self._conn.execute("COMMIT")
                return seqs
        except sqlite3.Error as exc:
            self._rollback()
            raise OutboxError(f"cannot store {len(rows)} event(s): {exc}") from exc

    def _rollback(self) -> None:
        try:
            with self._lock:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def put_alarm(self, body: dict[str, Any], ts: float, mono: float | None = None) -> int:
        """Store an alarm and fsync before returning its sequence number."""
        return self._insert([("alarm", ts, mono, body)], "FULL")[0]

    def put(self, lane: str, body: dict[str, Any], ts: float, mono: float | None = None) -> int:
        """Store one event of any lane (alarms go through put_alarm's full sync)."""
        sync = "FULL" if lane == "alarm" else "NORMAL"
        return self._insert([(lane, ts, mono, body)], sync)[0]

    def put_many(self, rows: Iterable[tuple[str, float, float | None, dict[str, Any]]]) -> list[int]:
        """Store a batch of non-alarm events in one transaction."""
        rows = list(rows)
        sync = "FULL" if any(r[0] == "alarm" for r in rows) else "NORMAL"
        return self._insert(rows, sync) if rows else []

    def pending(self, limit: int, exclude: set[int] | frozenset[int] = frozenset()) -> list[Entry]:
        """The oldest unacknowledged entries, alarms before events before readings."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, lane_name, ts, mono, body FROM outbox ORDER BY lane, seq LIMIT ?",
                (limit + len(exclude),),
            ).fetchall()
        entries = [Entry(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows if r[0] not in exclude]
        return entries[:limit]

    def ack(self, seqs: Iterable[int]) -> int:
        """Forget entries the server has durably stored; returns how many were removed."""
        seqs = list(seqs)
        if not seqs:
            return 0
        with self._lock:
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("BEGIN IMMEDIATE")
            cur = self._conn.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])
            self._conn.execute("COMMIT")
            return cur.rowcount

    def count(self, lane: str | None = None) -> int:
        """How many entries wait for acknowledgement (in one lane, or all)."""
        with self._lock:
            if lane is None:
                return int(self._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
            return int(self._conn.execute("SELECT COUNT(*) FROM outbox WHERE lane_name = ?", (lane,)).fetchone()[0])

    def get_meta(self, key: str) -> str | None:
        """A small persistent value (boot counter, applied rules version)."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Persist a small value."""
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()
