"""Sequence numbers that are never handed out twice, even across a power cut.

Readings are committed with synchronous=NORMAL, so a power cut may erase the last commits — and with
them any record of the numbers they used, though those events may already be at the server. So
numbers are reserved on disk in blocks, with a full fsync, before any of them is used; after an
unclean stop numbering resumes past the reserved block. A clean stop records where it stopped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

SEQ_BLOCK = 10_000


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    """A small persistent value from the outbox's meta table."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: object) -> None:
    """Store a small value (inside the caller's transaction, if any)."""
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, str(value)))


def set_sync(conn: sqlite3.Connection, level: str) -> None:
    """`PRAGMA synchronous` for the next commits (FULL: fsync on commit; NORMAL: at checkpoints)."""
    conn.execute(f"PRAGMA synchronous={level}")


class SequenceNumbers:
    """The outbox's numbering; the caller holds the outbox lock around every call."""

    def __init__(
        self, conn: sqlite3.Connection, block: int = SEQ_BLOCK, sync: Callable[[str], None] | None = None
    ) -> None:
        self._conn = conn
        self._block = block
        # How to set `PRAGMA synchronous` (the outbox passes its own, which skips a switch to the level
        # already set).
        self._sync = sync or (lambda level: set_sync(conn, level))
        self.next: int | None = None
        self._reserved = 0

    @property
    def started(self) -> bool:
        """recover() has run."""
        return self.next is not None

    def recover(self) -> list[int] | None:
        """Find where to continue; returns the [first, last] numbers skipped after an unclean stop."""
        reserved = int(get_meta(self._conn, "seq_reserved") or 0)
        high = int(get_meta(self._conn, "seq_high") or 0)
        high = max(high, int(self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox").fetchone()[0]))
        clean = get_meta(self._conn, "clean_next_seq")
        self._sync("FULL")
        self._conn.execute("BEGIN IMMEDIATE")
        self._conn.execute("DELETE FROM meta WHERE key = 'clean_next_seq'")
        skipped = None
        if clean is not None or reserved == 0:
            self.next = max(int(clean or 1), high + 1)
        else:
            self.next = max(reserved + 1, high + 1)
            if self.next > high + 1:
                skipped = [high + 1, self.next - 1]
        self._reserved = max(reserved, self.next - 1)
        self._conn.execute("COMMIT")
        return skipped

    def reserves(self, n: int) -> bool:
        """Whether allocate(n) writes a new reservation, which records every number below it as used: the
        caller must have committed (or given up) every number it handed out before."""
        return self.next is not None and self.next + n - 1 > self._reserved

    def allocate(self, n: int) -> int:
        """First of n fresh numbers; extends the durable reservation (fsync'd) when needed."""
        if self.next is None:
            raise RuntimeError("recover() must run before numbers are handed out")
        first = self.next
        if first + n - 1 > self._reserved:
            reserved = first + n - 1 + self._block
            self._sync("FULL")
            self._conn.execute("BEGIN IMMEDIATE")
            set_meta(self._conn, "seq_reserved", reserved)
            # Numbers below `first` are used: a lower bound for the gap an unclean stop reports.
            set_meta(self._conn, "seq_high", first - 1)
            self._conn.execute("COMMIT")
            # Only a reservation on disk counts: a refused one is tried again by the next allocation,
            # or numbers the server already holds would be handed out again after a power cut.
            self._reserved = reserved
        self.next = first + n
        return first

    def note_delivered(self, highest: int) -> None:
        """Inside the caller's transaction: numbers up to `highest` were used (tightens a later gap)."""
        current = int(get_meta(self._conn, "seq_high") or 0)
        set_meta(self._conn, "seq_high", max(current, highest))

    def clean_stop(self) -> None:
        """Record where numbering stopped, so the next start leaves no gap."""
        if self.next is not None:
            self._sync("FULL")
            set_meta(self._conn, "clean_next_seq", self.next)
