"""The outbox's table and what is known of it in memory: which entries wait for the server (the index,
gateway/outbox_index.py), which were just committed (sent once from memory), which are acknowledged but
not deleted yet. The index learns an entry only after the transaction that stored it has committed."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any

from anxin import protocol
from gateway.errors import OutboxError
from gateway.outbox_acks import AckedEntries
from gateway.outbox_db import Entry, ranges, used_bytes
from gateway.outbox_group import Staged
from gateway.outbox_index import PendingIndex
from gateway.sequence import SequenceNumbers, set_meta, set_sync

# Readings and events just committed, kept as the uplink will send them (no read back, no JSON decoding
# on their first send); resends and anything older come from the table.
FRESH_MAX = 4096
INSERT = "INSERT INTO outbox (seq, lane, lane_name, ts, mono, body, src) VALUES (?, ?, ?, ?, ?, ?, ?)"


class Table:
    """One outbox file's table, its sequence numbers and its in-memory index, behind one lock."""

    def __init__(self, conn: sqlite3.Connection, on_load: Callable[[sqlite3.Connection], None]) -> None:
        self.conn = conn
        self.lock = threading.RLock()
        self._sync_level: str | None = None  # the PRAGMA synchronous last set: switched only when it changes
        self.seq = SequenceNumbers(conn, sync=self.set_sync)
        self._index: PendingIndex | None = None
        self._on_load = on_load  # also read from the table when the index is (the redelivery memory)
        self.fresh: dict[int, Entry] = {}
        self.acked = AckedEntries()
        self.committed = 0  # entries committed since the table was opened

    def index(self) -> PendingIndex:
        """The in-memory index, read from the table once (call under the lock)."""
        if self._index is None:
            self._index = PendingIndex.load(self.conn, self.acked.seqs)
            self._on_load(self.conn)
        return self._index

    def set_sync(self, level: str) -> None:
        if level != self._sync_level:
            set_sync(self.conn, level)
            self._sync_level = level

    def rollback(self) -> None:
        try:
            with self.lock:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def commit(
        self, staged: Sequence[Staged], sync: str, meta: dict[str, str] | None = None, fresh: Sequence[Entry] = ()
    ) -> None:
        """One transaction; the index learns the entries only once they are committed."""
        self.set_sync(sync)
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(INSERT, staged)
        for key, value in (meta or {}).items():
            set_meta(self.conn, key, value)
        self.conn.execute("COMMIT")
        index = self.index()
        for row in staged:
            index.add(row[2], row[0])
        for entry in fresh:
            self.fresh[entry.seq] = entry
        while len(self.fresh) > FRESH_MAX:
            del self.fresh[next(iter(self.fresh))]
        self.committed += len(staged)

    def entries(self, seqs: Sequence[int]) -> list[Entry]:
        """The stored, unacknowledged entries among `seqs`, in that order (bodies read by primary key)."""
        if not seqs:
            return []
        found: dict[int, Entry] = {}
        rows: list[tuple[Any, ...]] = []
        with self.lock:
            fresh = self.fresh
            missing = [s for s in seqs if s not in fresh]
            for s in seqs:
                entry = fresh.pop(s, None)  # sent once from memory; a resend reads the table
                if entry is not None:
                    found[s] = entry
            for i in range(0, len(missing), 500):
                chunk = missing[i : i + 500]
                marks = ",".join("?" * len(chunk))
                rows.extend(
                    self.conn.execute(
                        f"SELECT seq, lane_name, ts, mono, body FROM outbox WHERE seq IN ({marks})", chunk
                    )
                )
            acked = self.acked
        for r in rows:
            found[r[0]] = Entry(r[0], r[1], r[2], r[3], json.loads(r[4]))
        return [found[s] for s in seqs if s in found and s not in acked]

    def delete_acked(self, force: bool = False) -> int:
        """Delete the acknowledged entries that are due (gateway/outbox_acks.py), in one transaction."""
        with self.lock:
            if not self.acked:
                return 0
            done = self.acked.due((self.seq.next or 1) - 1, force, time.monotonic())
            if not done:
                return 0
            try:
                self.set_sync("NORMAL")
                self.conn.execute("BEGIN IMMEDIATE")
                # Acks come nearly in order: a few ranges, not one statement per entry (issue 24: this runs
                # on the central link's network thread).
                self.conn.executemany("DELETE FROM outbox WHERE seq BETWEEN ? AND ?", ranges(done))
                self.seq.note_delivered(done[-1])
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self.rollback()
                raise OutboxError(f"cannot remove {len(done)} acknowledged entries: {exc}") from exc
            n = len(done)
            self.acked.deleted(done, time.monotonic())
            return n

    def annotate(self, seq: int, key: str, value: Any) -> bool:
        """Add a field to a stored, unacknowledged entry's body; fsync'd. False when it is not waiting."""
        try:
            with self.lock:
                row = self.conn.execute("SELECT body FROM outbox WHERE seq = ?", (seq,)).fetchone()
                if row is None or seq in self.acked:
                    return False
                body = json.loads(row[0])
                body[key] = value
                self.set_sync("FULL")
                self.conn.execute("UPDATE outbox SET body = ? WHERE seq = ?", (protocol.body_text(body), seq))
                return True
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot annotate entry {seq}: {exc}") from exc

    def used_bytes(self) -> int:
        """Bytes of database pages in use."""
        with self.lock:
            return used_bytes(self.conn)

    def oldest(self, lane: str, n: int, skip: Collection[int] = ()) -> list[int]:
        """The oldest `n` waiting numbers of a lane, passing over those in `skip`."""
        with self.lock:
            out: list[int] = []
            for s in self.index().lanes[lane]:
                if s in skip:
                    continue
                out.append(s)
                if len(out) >= n:
                    break
            return out

    def thin(self, seqs: Sequence[int]) -> tuple[float, float]:
        """Delete waiting entries (the disk cap's); returns the times of the first and the last."""
        with self.lock:
            times = dict(self.conn.execute("SELECT seq, ts FROM outbox WHERE seq IN (?, ?)", (seqs[0], seqs[-1])))
            self.set_sync("NORMAL")
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])
            self.conn.execute("COMMIT")
            index = self.index()
            for s in seqs:
                index.discard(s)
                self.fresh.pop(s, None)
            return times[seqs[0]], times[seqs[-1]]
