"""The durable outbox: every event is on disk before anything else happens to it.

Its parts live in gateway/outbox_*.py: the file (db), the table and its in-memory index (table, index), the
group buffer (group), the redelivery memory (sources), batched deletes of acked entries (acks), the disk cap (cap).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from itertools import islice
from typing import Any

from anxin import protocol
from gateway.errors import OutboxError
from gateway.outbox_cap import DiskCap
from gateway.outbox_db import Entry, Row
from gateway.outbox_group import GroupBuffer, staged_rows
from gateway.outbox_sources import Source, Sources
from gateway.outbox_table import Table
from gateway.sequence import get_meta, set_meta

log = logging.getLogger(__name__)


class Outbox:
    """Alarms are committed with synchronous=FULL; readings with NORMAL, alone or in groups; disk use is
    capped (enforce_cap, from the worker's tick); what waits for the server is indexed in memory."""

    def __init__(self, conn: sqlite3.Connection, max_bytes: int | None = None, check_every: int = 1) -> None:
        self.sources = Sources()
        self.table = Table(conn, on_load=self.sources.load)
        self._conn, self._lock, self._seq = conn, self.table.lock, self.table.seq
        self.group = GroupBuffer()
        self.cap = DiskCap(max_bytes, check_every)
        self.group_commits = 0
        # What the uplink has published and not yet had acknowledged (set by the runtime): the disk cap
        # passes over it while other readings wait. Called outside this outbox's lock (the uplink's lock
        # comes first: it calls the outbox while holding it).
        self.in_flight: Callable[[], Collection[int]] = frozenset

    def recover(self, ts: float, mono: float | None = None) -> dict[str, Any] | None:
        """Start the sequence after a restart; after an unclean stop, record the skipped numbers as a gap."""
        with self._lock:
            if self._seq.started:
                return None
            try:
                self.table.index()
                skipped = self._seq.recover()
            except sqlite3.Error as exc:
                self.table.rollback()
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

    def source(self, key: str, replay: bool = False, group: bool = False) -> Source:
        """Tag what this thread stores while handling one local message (a context manager); on a replay (a
        redelivery) skip as many entries as the first delivery already stored.

        With `group`, its readings, events and meta values wait in a buffer until flush() commits them
        with those of the messages before it (a group commit); an alarm commits the buffer and itself at
        once. The caller acknowledges the message only after flush().
        """
        return Source(self.sources, self._lock, self.table.index, key, replay, group)

    def _insert(self, rows: Sequence[Row], sync: str, internal: bool = False) -> list[int]:
        try:
            with self._lock:
                sources = self.sources
                mine = not internal and sources.owner == threading.get_ident()
                if mine and sources.skip:
                    taken = sources.take_skip(len(rows))
                    rest = rows[taken:]
                    return [0] * taken + (self.put_many(rest) if rest else [])
                if not self._seq.started:
                    self.recover(rows[0][1], rows[0][2])
                self.table.index()
                n = len(rows)
                if self._seq.reserves(n):
                    # The reservation records the numbers below it as used (the floor of the gap an unclean
                    # stop reports): those still in the group must be on disk first.
                    self._flush_group(strict=False)
                first = self._seq.allocate(n)
                seqs = list(range(first, first + n))
                src = sources.key if mine else None
                staged, fresh = staged_rows(seqs, rows, src)
                if src is not None:
                    sources.note(src, n)
                if mine and sources.group and sync == "NORMAL":
                    self.group.stage(staged, fresh)  # committed by flush(), or by the next alarm
                    return seqs
                # Everything buffered has lower numbers: it is committed first (an alarm does not wait for
                # the group, it takes it along), so no number on disk ever sits above one still in memory.
                self._flush_group(strict=False)
                try:
                    self.table.commit(staged, sync, fresh=fresh)
                except sqlite3.Error:
                    if src is not None:
                        sources.note(src, -len(staged))
                    # Their numbers are handed out: the next tick's store_failed gap record names them.
                    self.group.refused.extend((row[0], row[3]) for row in staged)
                    raise
                return seqs
        except sqlite3.Error as exc:
            self.table.rollback()
            raise OutboxError(f"cannot store {len(rows)} event(s): {exc}") from exc

    def _flush_group(self, strict: bool) -> int:
        """Commit the buffered entries and meta values (NORMAL); on failure they are dropped and logged."""
        if not self.group:
            return 0
        rows, meta, fresh = self.group.take()
        try:
            self.table.commit(rows, "NORMAL", meta, fresh)
        except sqlite3.Error as exc:
            self.table.rollback()
            for row in rows:
                if row[6] is not None:
                    self.sources.note(row[6], -1)
            self.group.refuse(rows)
            log.error("could not store %d buffered event(s): %s", len(rows), exc)
            if strict:
                raise OutboxError(f"cannot store {len(rows)} buffered event(s): {exc}") from exc
            return 0
        self.group_commits += 1
        return len(rows)

    def flush(self) -> int:
        """Commit what the group writes buffered (one transaction, synchronous=NORMAL); returns how many
        entries. When the disk refuses they are dropped (as a single reading that cannot be stored always
        was) and OutboxError is raised."""
        with self._lock:
            return self._flush_group(strict=True)

    def report_refused(self, ts: float, mono: float | None = None) -> bool:
        """Store a `store_failed` gap record naming the entries group commits lost since the last report, so
        the server hears which numbers will never come (and from when). When the disk still refuses, they
        stay for the next call. True when a record was stored."""
        with self._lock:
            report = self.group.refused_gap()
            if report is None:
                return False
            n, gap = report  # a group the gap record's own insert commits first may fail and add more
            try:
                self._insert([("gap", ts, mono, gap)], "NORMAL", internal=True)
            except OutboxError as exc:
                log.error("could not record %d refused entries as a gap: %s", n, exc)
                return False
            del self.group.refused[:n]
            return True

    @property
    def buffered(self) -> bool:
        """Whether entries or meta values wait for flush()."""
        return bool(self.group)

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
        return self.table.annotate(seq, key, value)

    # Bounded disk (gateway/outbox_cap.py).

    def used_bytes(self) -> int:
        """Bytes of database pages in use."""
        return self.table.used_bytes()

    def enforce_cap(self, ts: float, mono: float | None = None) -> bool:
        """Thin the oldest readings if the outbox is past its disk cap (when enough entries were committed
        since the last check). False when the check failed (counted in cap.errors, tried again later)."""
        if not self.cap.due(self.table.committed):
            return True
        in_flight = self.in_flight()
        with self._lock:
            try:
                self.cap.enforce(self, ts, mono, in_flight)
            except (sqlite3.Error, OutboxError) as exc:
                self.table.rollback()
                self.cap.errors += 1
                log.error("could not enforce the outbox's disk cap: %s", exc)
                return False
            return True

    # Reading and acknowledging.

    def pending(self, limit: int, exclude: set[int] | frozenset[int] = frozenset()) -> list[Entry]:
        """The oldest unacknowledged entries, alarms before events before readings."""
        with self._lock:
            ordered = (s for _, s in self.table.index().ordered() if s not in exclude)
            return self.table.entries(list(islice(ordered, max(limit, 0))))

    def waiting(self, limit: int, after: dict[int, int]) -> list[tuple[int, int]]:
        """(lane order, seq) of up to `limit` unacknowledged entries in sending order, above `after[lane
        order]` in each lane order: what the uplink has not sent yet on its link, found without skipping
        over what it has in flight."""
        with self._lock:
            return list(islice(self.table.index().ordered(after), max(limit, 0)))

    def entries(self, seqs: Sequence[int]) -> list[Entry]:
        """The stored, unacknowledged entries among `seqs`, in that order."""
        return self.table.entries(seqs)

    def alarms(self) -> list[Entry]:
        """Every unacknowledged alarm, oldest first (for the SMS fallback)."""
        with self._lock:
            seqs = list(self.table.index().lanes["alarm"])
            return self.table.entries(seqs) if seqs else []

    def ack(self, seqs: Iterable[int]) -> int:
        """Forget entries the server has durably stored; returns how many were waiting. Their rows are
        deleted in batches (gateway/outbox_acks.py)."""
        with self._lock:
            index, acked, fresh = self.table.index(), self.table.acked, self.table.fresh
            known = [s for s in seqs if s not in acked and index.discard(s) is not None]
            if not known:
                return 0
            acked.add(known, time.monotonic())
            for s in known:
                fresh.pop(s, None)
            self.table.delete_acked()
            return len(known)

    def still_waiting(self, seqs: Iterable[int]) -> set[int]:
        """Those of `seqs` not acknowledged (nor thinned) yet."""
        with self._lock:
            index = self.table.index()
            return {s for s in seqs if index.has(s)}

    def seqs_upto(self, upto: int) -> list[int]:
        """Unacknowledged sequence numbers <= upto (what a cumulative ack covers)."""
        if upto <= 0:
            return []
        with self._lock:
            return self.table.index().upto(upto)

    def flush_due(self) -> int:
        """Called regularly by the uplink: deletes acknowledged entries once enough have waited."""
        return self.table.delete_acked()

    def flush_acks(self, force: bool = False) -> int:
        """Delete acknowledged entries that are due (or, with force, all but the newest KEEP_RECENT)."""
        return self.table.delete_acked(force)

    def count(self, lane: str | None = None) -> int:
        """How many committed entries wait for acknowledgement (in one lane, or all)."""
        with self._lock:
            return self.table.index().count(lane)

    def index_snapshot(self) -> dict[str, list[int]]:
        """Lane -> unacknowledged sequence numbers, as the in-memory index has them (tests)."""
        with self._lock:
            return self.table.index().snapshot()

    def get_meta(self, key: str) -> str | None:
        """A small persistent value (boot counter, applied rules version)."""
        with self._lock:
            if key in self.group.meta:
                return self.group.meta[key]
            return get_meta(self._conn, key)

    def set_meta(self, key: str, value: str) -> None:
        """Persist a small value; inside a group (source(group=True)) it is committed with the group's
        entries, so a value written after an entry was stored is never on disk without it."""
        with self._lock:
            if self.sources.group and self.sources.mine():
                self.group.meta[key] = str(value)
                return
            self._flush_group(strict=False)
            set_meta(self._conn, key, value)

    def close(self) -> None:
        """Commit what is buffered, record where the sequence stopped (a clean stop leaves no gap), close."""
        with self._lock:
            try:
                self._flush_group(strict=False)
                self.table.delete_acked(force=True)
                self._seq.clean_stop()
            except (sqlite3.Error, OutboxError):
                pass  # the next start treats this as unclean and records a gap: safe
            self._conn.close()
