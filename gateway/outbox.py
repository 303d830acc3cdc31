"""The durable outbox: every event is on disk before anything else happens to it."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from anxin import protocol
from gateway.errors import OutboxError
from gateway.outbox_db import LANE_ORDER, Entry, Row, connect, ranges, used_bytes
from gateway.sequence import SequenceNumbers, get_meta, set_meta

__all__ = ["ACK_FLUSH_N", "ACK_FLUSH_S", "KEEP_RECENT", "Entry", "Outbox", "connect", "ranges"]

log = logging.getLogger(__name__)

ACK_FLUSH_N = 256
ACK_FLUSH_S = 300.0
# The newest acknowledged rows stay (deleted later) so a redelivered local message can be recognised:
# the home broker redelivers at most its in-flight window (Mosquitto: 20 messages) after a crash.
KEEP_RECENT = 512


class Outbox:
    """Alarms are committed with synchronous=FULL; readings with NORMAL; disk use is capped."""

    def __init__(self, conn: sqlite3.Connection, max_bytes: int | None = None, check_every: int = 200) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self.max_bytes = max_bytes
        self._check_every = check_every
        self._since_check = 0
        self._seq = SequenceNumbers(conn)
        self._src: str | None = None
        self._skip = 0
        self._acked: set[int] = set()
        self._acked_since = 0.0
        self.thinned = 0
        self.replays = 0
        self.skipped = 0

    def recover(self, ts: float, mono: float | None = None) -> dict[str, Any] | None:
        """Start the sequence after a restart; after an unclean stop, record the skipped numbers as a gap."""
        with self._lock:
            if self._seq.started:
                return None
            try:
                skipped = self._seq.recover()
            except sqlite3.Error as exc:
                self._rollback()
                raise OutboxError(f"cannot recover the outbox sequence: {exc}") from exc
            if skipped is None:
                return None
            gap = protocol.GapBody(
                "unclean_restart",
                ((skipped[0], skipped[1]),),
                skipped[1] - skipped[0] + 1,
                note="sequence numbers reserved before a crash or power cut; readings among "
                "them may have been lost, alarms never are",
            ).to_wire()
            self._insert([("gap", ts, mono, gap)], "FULL", internal=True)
            return gap

    @contextmanager
    def source(self, key: str, replay: bool = False) -> Iterator[None]:
        """Tag what is stored while handling one local message; on a replay (a redelivery) skip as
        many entries as the first delivery already stored."""
        with self._lock:
            self._src = key
            self._skip = self._count_src(key) if replay else 0
            if self._skip:
                self.replays += 1
                log.info("redelivered local message %s: its first %d entries are already stored", key, self._skip)
        try:
            yield
        finally:
            with self._lock:
                self._src, self._skip = None, 0

    def _count_src(self, key: str) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM outbox WHERE src = ?", (key,)).fetchone()[0])

    def _replayed(self, rows: Sequence[Row]) -> list[int]:
        taken = min(self._skip, len(rows))
        self._skip -= taken
        self.skipped += taken
        rest = rows[taken:]
        return [0] * taken + (
            self._insert(rest, "FULL" if any(r[0] == "alarm" for r in rest) else "NORMAL") if rest else []
        )

    # Writing.

    def _insert(self, rows: Sequence[Row], sync: str, internal: bool = False) -> list[int]:
        try:
            with self._lock:
                if not internal and self._skip:
                    return self._replayed(rows)
                if not self._seq.started:
                    self.recover(rows[0][1], rows[0][2])
                first = self._seq.allocate(len(rows))
                self._conn.execute(f"PRAGMA synchronous={sync}")
                self._conn.execute("BEGIN IMMEDIATE")
                seqs = list(range(first, first + len(rows)))
                src = None if internal else self._src
                self._conn.executemany(
                    "INSERT INTO outbox (seq, lane, lane_name, ts, mono, body, src) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (s, LANE_ORDER[lane], lane, ts, mono, json.dumps(body, ensure_ascii=False), src)
                        for s, (lane, ts, mono, body) in zip(seqs, rows, strict=False)
                    ],
                )
                self._conn.execute("COMMIT")
                self._since_check += len(rows)
                if self.max_bytes and self._since_check >= self._check_every:
                    self._since_check = 0
                    self._enforce_cap(rows[-1][1], rows[-1][2])
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
        """Store one event of any lane (alarms always with a full sync)."""
        sync = "FULL" if lane == "alarm" else "NORMAL"
        return self._insert([(lane, ts, mono, body)], sync)[0]

    def put_many(self, rows: Iterable[Row]) -> list[int]:
        """Store a batch of events in one transaction (full sync if it holds an alarm)."""
        rows = list(rows)
        sync = "FULL" if any(r[0] == "alarm" for r in rows) else "NORMAL"
        return self._insert(rows, sync) if rows else []

    def annotate(self, seq: int, key: str, value: Any) -> bool:
        """Add a field to a stored, unacknowledged entry (e.g. the SMS already sent); fsync'd."""
        try:
            with self._lock:
                row = self._conn.execute("SELECT body FROM outbox WHERE seq = ?", (seq,)).fetchone()
                if row is None or seq in self._acked:
                    return False
                body = json.loads(row[0])
                body[key] = value
                self._conn.execute("PRAGMA synchronous=FULL")
                self._conn.execute(
                    "UPDATE outbox SET body = ? WHERE seq = ?", (json.dumps(body, ensure_ascii=False), seq)
                )
                return True
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot annotate entry {seq}: {exc}") from exc

    # Bounded disk: the oldest readings go first, and say so in a gap record.

    def used_bytes(self) -> int:
        """Bytes of database pages in use."""
        with self._lock:
            return used_bytes(self._conn)

    def _enforce_cap(self, ts: float, mono: float | None) -> None:
        while self.max_bytes and self.used_bytes() > self.max_bytes:
            readings = self.count("reading")
            if readings == 0:
                return  # only alarms and events are left: they are never dropped
            self.flush_acks(force=True)
            want = max(1, readings // 10)
            victims = [
                v
                for v in self._conn.execute(
                    "SELECT seq, ts FROM outbox WHERE lane_name = 'reading' ORDER BY seq LIMIT ?",
                    (want + len(self._acked),),
                ).fetchall()
                if v[0] not in self._acked
            ][:want]  # delivered ones are not thinned
            seqs = [v[0] for v in victims]
            gap = protocol.GapBody(
                "disk_cap", tuple((a, b) for a, b in ranges(seqs)), len(seqs), victims[0][1], victims[-1][1]
            ).to_wire()
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])
            self._conn.execute("COMMIT")
            self.thinned += len(seqs)
            self._insert([("gap", ts, mono, gap)], "NORMAL", internal=True)

    # Reading and acknowledging.

    def pending(self, limit: int, exclude: set[int] | frozenset[int] = frozenset()) -> list[Entry]:
        """The oldest unacknowledged entries, alarms before events before readings."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, lane_name, ts, mono, body FROM outbox ORDER BY lane, seq LIMIT ?",
                (limit + len(exclude) + len(self._acked),),
            ).fetchall()
            skip = exclude | self._acked if self._acked else exclude
        kept = [r for r in rows if r[0] not in skip][:limit]
        return [Entry(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in kept]

    def alarms(self) -> list[Entry]:
        """Every unacknowledged alarm, oldest first (for the SMS fallback)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, lane_name, ts, mono, body FROM outbox WHERE lane = 0 ORDER BY seq"
            ).fetchall()
            acked = set(self._acked)
        return [Entry(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows if r[0] not in acked]

    def ack(self, seqs: Iterable[int]) -> int:
        """Forget entries the server has durably stored; returns how many were waiting.

        Deletes are written in batches (see flush_acks): one page write per acknowledged event would be
        most of the gateway's SD-card wear. An entry acked but not yet deleted when the power goes is
        simply sent again, and the server ignores it.
        """
        with self._lock:
            fresh = [s for s in seqs if s not in self._acked]
            if not fresh:
                return 0
            known = {
                r[0]
                for r in self._conn.execute(
                    f"SELECT seq FROM outbox WHERE seq IN ({','.join('?' * len(fresh))})", fresh
                )
            }
            if not self._acked:
                self._acked_since = time.monotonic()
            self._acked.update(known)
            self.flush_acks()
            return len(known)

    def seqs_upto(self, upto: int) -> list[int]:
        """Stored sequence numbers <= upto (what a cumulative ack covers)."""
        if upto <= 0:
            return []
        with self._lock:
            return [r[0] for r in self._conn.execute("SELECT seq FROM outbox WHERE seq <= ?", (upto,))]

    def flush_due(self) -> int:
        """Called regularly by the uplink: deletes acknowledged entries once enough have waited."""
        return self.flush_acks()

    def flush_acks(self, force: bool = False) -> int:
        """Delete acknowledged entries older than the newest KEEP_RECENT, in one transaction, when at
        least ACK_FLUSH_N wait or the oldest has waited ACK_FLUSH_S (or now, with force)."""
        with self._lock:
            if not self._acked:
                return 0
            newest = (self._seq.next or 1) - 1
            done = sorted(s for s in self._acked if s <= newest - KEEP_RECENT)
            due = force or len(done) >= ACK_FLUSH_N or time.monotonic() - self._acked_since >= ACK_FLUSH_S
            if not done or not due:
                return 0
            try:
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in done])
                self._seq.note_delivered(done[-1])
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise OutboxError(f"cannot remove {len(done)} acknowledged entries: {exc}") from exc
            self._acked.difference_update(done)
            self._acked_since = time.monotonic()
            return len(done)

    def count(self, lane: str | None = None) -> int:
        """How many entries wait for acknowledgement (in one lane, or all)."""
        with self._lock:
            where, args = ("WHERE lane_name = ?", [lane]) if lane else ("", [])
            total = int(self._conn.execute(f"SELECT COUNT(*) FROM outbox {where}", args).fetchone()[0])
            if not self._acked:
                return total
            acked = list(self._acked)
            marks = ",".join("?" * len(acked))
            done = self._conn.execute(
                f"SELECT COUNT(*) FROM outbox WHERE seq IN ({marks})" + (" AND lane_name = ?" if lane else ""),
                [*acked, *args],
            ).fetchone()[0]
            return total - int(done)

    def get_meta(self, key: str) -> str | None:
        """A small persistent value (boot counter, applied rules version)."""
        with self._lock:
            return get_meta(self._conn, key)

    def set_meta(self, key: str, value: str) -> None:
        """Persist a small value."""
        with self._lock:
            set_meta(self._conn, key, value)

    def close(self) -> None:
        """Record where the sequence stopped (a clean stop leaves no gap), then close."""
        with self._lock:
            try:
                self.flush_acks(force=True)
                self._seq.clean_stop()
            except sqlite3.Error:
                pass  # the next start treats this as unclean and records a gap: safe
            self._conn.close()
