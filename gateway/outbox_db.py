"""The outbox's SQLite file: schema, pragmas that spare the SD card, and the row type."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.errors import OutboxError

LANE_ORDER = {"alarm": 0, "event": 1, "gap": 1, "reading": 2}

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    lane INTEGER NOT NULL,
    lane_name TEXT NOT NULL,
    ts REAL NOT NULL,
    mono REAL,
    body TEXT NOT NULL,
    src TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

Row = tuple[str, float, "float | None", dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored event, identified for ever by its sequence number."""

    seq: int
    lane: str
    ts: float
    mono: float | None
    body: dict[str, Any]
    # The body as stored (protocol.body_text), for the uplink to send as it is; None when read back from
    # the table (a row stored by an older version may be spaced differently: the uplink encodes the body).
    text: str | None = field(default=None, compare=False)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating) an outbox database in WAL mode, with a bounded WAL file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutboxError(f"cannot create the data directory {path.parent}: {exc.strerror or exc}") from exc
    try:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        # Every commit writes whole pages to the WAL: 1 KB pages instead of 4 KB cut the bytes an
        # event costs the SD card about fourfold (docs/performance.md). Only effective on a new file.
        conn.execute("PRAGMA page_size=1024")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        # The WAL is truncated back to 4 MB after checkpoints instead of staying at its peak size.
        conn.execute("PRAGMA journal_size_limit=4194304")
        conn.executescript(SCHEMA)
        # The (lane, seq) index of earlier versions: the in-memory index (gateway/outbox_index.py) finds what
        # to send, so it only cost a B-tree insert and delete per entry, on the SD card too (issue 24).
        conn.execute("DROP INDEX IF EXISTS outbox_lane")
        if "src" not in {r[1] for r in conn.execute("PRAGMA table_info(outbox)")}:
            conn.execute("ALTER TABLE outbox ADD COLUMN src TEXT")  # outboxes from before redelivery checks
    except sqlite3.Error as exc:
        raise OutboxError(f"cannot open outbox {path}: {exc}") from exc
    return conn


def ranges(seqs: Iterable[int]) -> list[list[int]]:
    """Compress sorted sequence numbers into inclusive [first, last] ranges."""
    out: list[list[int]] = []
    for s in sorted(seqs):
        if out and s == out[-1][1] + 1:
            out[-1][1] = s
        else:
            out.append([s, s])
    return out


def used_bytes(conn: sqlite3.Connection) -> int:
    """Bytes of database pages in use (free pages are reused, so this is what grows)."""
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * size)
