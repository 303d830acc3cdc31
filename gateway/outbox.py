"""The durable outbox: every event is on disk before anything else happens to it."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from bisect import bisect_right, insort
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from anxin import protocol
from gateway.errors import OutboxError
from gateway.outbox_db import LANE_ORDER, Entry, Row, connect, ranges, used_bytes
from gateway.outbox_index import PendingIndex
from gateway.sequence import SequenceNumbers, get_meta, set_meta, set_sync

__all__ = ["ACK_FLUSH_N", "ACK_FLUSH_S", "KEEP_RECENT", "Entry", "Outbox", "connect", "ranges"]

log = logging.getLogger(__name__)

ACK_FLUSH_N = 256
ACK_FLUSH_S = 300.0
# The newest acknowledged rows stay (deleted later) so a redelivered local message can be recognised:
# the home broker redelivers at most its in-flight window (Mosquitto: 20 messages) after a crash.
KEEP_RECENT = 512
# Local messages whose stored entries are remembered for recognising a redelivery (newest first): far more
# than the home broker's in-flight window (deploy/mosquitto-pi.conf: 100) plus what waits in the worker.
SOURCE_MEMORY = 4096
# Readings and events just committed, kept as the uplink will send them (no read back, no JSON decoding
# on their first send); resends and anything older come from the table.
FRESH_MAX = 4096


def encode_body(body: dict[str, Any]) -> str:
    """A body as the outbox stores it: the text encode_batch writes for it, so the uplink sends it as is."""
    return protocol.body_text(body)


INSERT = "INSERT INTO outbox (seq, lane, lane_name, ts, mono, body, src) VALUES (?, ?, ?, ?, ?, ?, ?)"
# A row as inserted: seq, lane order, lane name, ts, mono, body (JSON), source message key.
Staged = tuple[int, int, str, float, "float | None", str, "str | None"]


class _Source:
    """Outbox.source(): a class, not a generator-based context manager (it runs for every local message)."""

    __slots__ = ("_args", "_outbox")

    def __init__(self, outbox: Outbox, key: str, replay: bool, group: bool) -> None:
        self._outbox, self._args = outbox, (key, replay, group)

    def __enter__(self) -> None:
        self._outbox._begin_source(*self._args)

    def __exit__(self, *_exc: object) -> None:
        self._outbox._end_source()


class Outbox:
    """Alarms are committed with synchronous=FULL; readings with NORMAL, alone or in groups; disk use is capped.

    What waits for the server's acknowledgement is indexed in memory (gateway/outbox_index.py), built
    from the table when the outbox opens, so finding the next entries to send does not read the table.
    """

    def __init__(self, conn: sqlite3.Connection, max_bytes: int | None = None, check_every: int = 200) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self.max_bytes = max_bytes
        self._check_every = check_every
        self._since_check = 0
        self._sync_level: str | None = None  # the PRAGMA synchronous last set: switched only when it changes
        self._seq = SequenceNumbers(conn, sync=self._set_sync)
        self._index: PendingIndex | None = None
        # Local message key -> entries its handling stored (the newest SOURCE_MEMORY keys).
        self._sources: OrderedDict[str, int] = OrderedDict()
        # While the worker handles one local message (source()): its key, the entries a redelivery
        # skips, and whether its readings and events wait in the buffer for a group commit (flush()).
        self._src: str | None = None
        self._src_owner: int | None = None
        self._skip = 0
        self._group = False
        self._buffer: list[Staged] = []
        self._buffer_fresh: list[Entry] = []
        self._fresh: dict[int, Entry] = {}
        self._buffer_meta: dict[str, str] = {}
        self._acked: set[int] = set()
        self._acked_order: list[int] = []  # the same numbers, ascending (acks come nearly in order)
        self._acked_since = 0.0
        self.thinned = 0
        self.replays = 0
        self.skipped = 0
        self.group_commits = 0
        self.cap_errors = 0  # disk-cap checks that failed after a commit (tried again later)
        self.lost = 0  # buffered entries dropped because their group commit failed (the disk refused)
        # (seq, ts) of those not yet reported to the server in a `store_failed` gap record (report_refused).
        self._refused: list[tuple[int, float]] = []

    def recover(self, ts: float, mono: float | None = None) -> dict[str, Any] | None:
        """Start the sequence after a restart; after an unclean stop, record the skipped numbers as a gap."""
        with self._lock:
            if self._seq.started:
                return None
            try:
                self._load_index()
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

    def _load_index(self) -> PendingIndex:
        """The in-memory index and the redelivery memory, read from the table once (under the lock)."""
        if self._index is None:
            self._index = PendingIndex.load(self._conn, self._acked)
            recent = self._conn.execute(
                "SELECT src, COUNT(*), MAX(seq) FROM outbox WHERE src IN "
                "(SELECT src FROM outbox WHERE src IS NOT NULL ORDER BY seq DESC LIMIT ?) "
                "GROUP BY src ORDER BY MAX(seq)",
                (SOURCE_MEMORY,),
            ).fetchall()
            self._sources = OrderedDict((str(r[0]), int(r[1])) for r in recent)
        return self._index

    def _set_sync(self, level: str) -> None:
        if level != self._sync_level:
            set_sync(self._conn, level)
            self._sync_level = level

    def source(self, key: str, replay: bool = False, group: bool = False) -> _Source:
        """Tag what this thread stores while handling one local message (a context manager); on a replay (a
        redelivery) skip as many entries as the first delivery already stored.

        With `group`, its readings, events and meta values wait in a buffer until flush() commits them
        with those of the messages before it (a group commit); an alarm commits the buffer and itself at
        once. The caller acknowledges the message only after flush().
        """
        return _Source(self, key, replay, group)

    def _begin_source(self, key: str, replay: bool, group: bool) -> None:
        with self._lock:
            if self._index is None:
                self._load_index()
            self._src, self._src_owner, self._group = key, threading.get_ident(), group
            self._skip = self._sources.get(key, 0) if replay else 0
            if self._skip:
                self.replays += 1
                log.info("redelivered local message %s: its first %d entries are already stored", key, self._skip)

    def _end_source(self) -> None:
        with self._lock:
            self._src, self._src_owner, self._skip, self._group = None, None, 0, False

    def _mine(self) -> bool:
        """Whether the caller is the thread handling the tagged local message."""
        return self._src_owner is not None and self._src_owner == threading.get_ident()

    def _note_source(self, key: str, n: int) -> None:
        count = self._sources.get(key, 0) + n
        if count <= 0:
            self._sources.pop(key, None)
            return
        self._sources[key] = count
        self._sources.move_to_end(key)
        while len(self._sources) > SOURCE_MEMORY:
            self._sources.popitem(last=False)

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
                mine = not internal and self._src_owner == threading.get_ident()
                if mine and self._skip:
                    return self._replayed(rows)
                if not self._seq.started:
                    self.recover(rows[0][1], rows[0][2])
                if self._index is None:
                    self._load_index()
                n = len(rows)
                if self._seq.reserves(n):
                    # The reservation records the numbers below it as used (the floor of the gap an unclean
                    # stop reports): those still in the group must be on disk first.
                    self._flush_buffer(strict=False)
                first = self._seq.allocate(n)
                seqs = list(range(first, first + n))
                src = self._src if mine else None
                staged: list[Staged] = []
                fresh: list[Entry] = []
                for s, (lane, ts, mono, body) in zip(seqs, rows, strict=True):
                    text = encode_body(body)
                    staged.append((s, LANE_ORDER[lane], lane, ts, mono, text, src))
                    if lane != "alarm":  # an alarm's body may be annotated later: always read from the table
                        fresh.append(Entry(s, lane, ts, mono, body, text))
                if src is not None:
                    self._note_source(src, n)
                if mine and self._group and sync == "NORMAL":
                    self._buffer.extend(staged)  # committed by flush(), or by the next alarm
                    self._buffer_fresh.extend(fresh)
                    return seqs
                # Everything buffered has lower numbers: it is committed first (an alarm does not wait for
                # the group, it takes it along), so no number on disk ever sits above one still in memory.
                self._flush_buffer(strict=False)
                try:
                    self._commit(staged, sync, fresh=fresh)
                except sqlite3.Error:
                    if src is not None:
                        self._note_source(src, -len(staged))
                    # Their numbers are handed out: the next tick's store_failed gap record names them.
                    self._refused.extend((row[0], row[3]) for row in staged)
                    raise
                return seqs
        except sqlite3.Error as exc:
            self._rollback()
            raise OutboxError(f"cannot store {len(rows)} event(s): {exc}") from exc

    def _commit(
        self,
        staged: Sequence[Staged],
        sync: str,
        meta: dict[str, str] | None = None,
        fresh: Sequence[Entry] = (),
    ) -> None:
        """One transaction; the index learns the entries only once they are committed."""
        self._set_sync(sync)
        self._conn.execute("BEGIN IMMEDIATE")
        self._conn.executemany(INSERT, staged)
        for key, value in (meta or {}).items():
            set_meta(self._conn, key, value)
        self._conn.execute("COMMIT")
        index = self._load_index()
        for row in staged:
            index.add(row[2], row[0])
        for entry in fresh:
            self._fresh[entry.seq] = entry
        while len(self._fresh) > FRESH_MAX:
            del self._fresh[next(iter(self._fresh))]
        self._since_check += len(staged)
        if staged and self.max_bytes and self._since_check >= self._check_every:
            self._since_check = 0
            try:
                self._enforce_cap(staged[-1][3], staged[-1][4])
            except (sqlite3.Error, OutboxError) as exc:
                # What was just committed stays committed (an alarm among it must not be reported as
                # failed, parked and stored twice); the cap is checked again after the next commits.
                self._rollback()
                self.cap_errors += 1
                log.error("could not enforce the outbox's disk cap: %s", exc)

    def _flush_buffer(self, strict: bool) -> int:
        """Commit the buffered entries and meta values (NORMAL); on failure they are dropped and logged."""
        if not self._buffer and not self._buffer_meta:
            return 0
        rows, meta, fresh = self._buffer, self._buffer_meta, self._buffer_fresh
        self._buffer, self._buffer_meta, self._buffer_fresh = [], {}, []
        try:
            self._commit(rows, "NORMAL", meta, fresh)
        except sqlite3.Error as exc:
            self._rollback()
            for row in rows:
                if row[6] is not None:
                    self._note_source(row[6], -1)
            self.lost += len(rows)
            self._refused.extend((row[0], row[3]) for row in rows)
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
            return self._flush_buffer(strict=True)

    def report_refused(self, ts: float, mono: float | None = None) -> bool:
        """Store a `store_failed` gap record naming the entries group commits lost since the last report, so
        the server hears which numbers will never come (and from when). When the disk still refuses, they
        stay for the next call. True when a record was stored."""
        with self._lock:
            if not self._refused:
                return False
            n = len(self._refused)  # a group the gap record's own insert commits first may fail and add more
            refused = sorted(self._refused)
            seqs = [s for s, _ in refused]
            times = [t for _, t in refused]
            gap = protocol.GapBody(
                "store_failed",
                tuple((a, b) for a, b in ranges(seqs)),
                len(seqs),
                min(times),
                max(times),
                note="readings and events the disk refused to store",
            ).to_wire()
            try:
                self._insert([("gap", ts, mono, gap)], "NORMAL", internal=True)
            except OutboxError as exc:
                log.error("could not record %d refused entries as a gap: %s", len(seqs), exc)
                return False
            del self._refused[:n]
            return True

    @property
    def buffered(self) -> bool:
        """Whether entries or meta values wait for flush()."""
        return bool(self._buffer or self._buffer_meta)

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
                self._set_sync("FULL")
                self._conn.execute("UPDATE outbox SET body = ? WHERE seq = ?", (encode_body(body), seq))
                return True
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot annotate entry {seq}: {exc}") from exc

    # Bounded disk: the oldest readings go first, and say so in a gap record.

    def used_bytes(self) -> int:
        """Bytes of database pages in use."""
        with self._lock:
            return used_bytes(self._conn)

    def _enforce_cap(self, ts: float, mono: float | None) -> None:
        index = self._load_index()
        while self.max_bytes and self.used_bytes() > self.max_bytes:
            readings = index.count("reading")
            if readings == 0:
                return  # only alarms and events are left: they are never dropped
            self.flush_acks(force=True)
            want = max(1, readings // 10)
            seqs = []  # the oldest waiting readings (delivered ones are not thinned)
            for s in index.lanes["reading"]:
                seqs.append(s)
                if len(seqs) >= want:
                    break
            times = dict(self._conn.execute("SELECT seq, ts FROM outbox WHERE seq IN (?, ?)", (seqs[0], seqs[-1])))
            gap = protocol.GapBody(
                "disk_cap", tuple((a, b) for a, b in ranges(seqs)), len(seqs), times[seqs[0]], times[seqs[-1]]
            ).to_wire()
            self._set_sync("NORMAL")
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])
            self._conn.execute("COMMIT")
            for s in seqs:
                index.discard(s)
                self._fresh.pop(s, None)
            self.thinned += len(seqs)
            self._insert([("gap", ts, mono, gap)], "NORMAL", internal=True)

    # Reading and acknowledging.

    def pending(self, limit: int, exclude: set[int] | frozenset[int] = frozenset()) -> list[Entry]:
        """The oldest unacknowledged entries, alarms before events before readings."""
        with self._lock:
            picked: list[int] = []
            if limit > 0:
                for _, s in self._load_index().ordered():
                    if s not in exclude:
                        picked.append(s)
                        if len(picked) >= limit:
                            break
            return self.entries(picked)

    def waiting(self, limit: int, after: dict[int, int]) -> list[tuple[int, int]]:
        """(lane order, seq) of up to `limit` unacknowledged entries in sending order, above `after[lane
        order]` in each lane order: what the uplink has not sent yet on its link, found without skipping
        over what it has in flight."""
        with self._lock:
            out: list[tuple[int, int]] = []
            if limit > 0:
                for item in self._load_index().ordered(after):
                    out.append(item)
                    if len(out) >= limit:
                        break
            return out

    def entries(self, seqs: Sequence[int]) -> list[Entry]:
        """The stored, unacknowledged entries among `seqs`, in that order (bodies read by primary key)."""
        if not seqs:
            return []
        found: dict[int, Entry] = {}
        rows: list[tuple[Any, ...]] = []
        with self._lock:
            fresh = self._fresh
            missing = [s for s in seqs if s not in fresh]
            for s in seqs:
                entry = fresh.pop(s, None)  # sent once from memory; a resend reads the table
                if entry is not None:
                    found[s] = entry
            for i in range(0, len(missing), 500):
                chunk = missing[i : i + 500]
                marks = ",".join("?" * len(chunk))
                rows.extend(
                    self._conn.execute(
                        f"SELECT seq, lane_name, ts, mono, body FROM outbox WHERE seq IN ({marks})", chunk
                    )
                )
            acked = self._acked
        for r in rows:
            found[r[0]] = Entry(r[0], r[1], r[2], r[3], json.loads(r[4]))
        return [found[s] for s in seqs if s in found and s not in acked]

    def alarms(self) -> list[Entry]:
        """Every unacknowledged alarm, oldest first (for the SMS fallback)."""
        with self._lock:
            seqs = list(self._load_index().lanes["alarm"])
            return self.entries(seqs) if seqs else []

    def ack(self, seqs: Iterable[int]) -> int:
        """Forget entries the server has durably stored; returns how many were waiting.

        Deletes are written in batches (see flush_acks): one page write per acknowledged event would be
        most of the gateway's SD-card wear. An entry acked but not yet deleted when the power goes is
        simply sent again, and the server ignores it.
        """
        with self._lock:
            index = self._load_index()
            known = [s for s in seqs if s not in self._acked and index.discard(s) is not None]
            if not known:
                return 0
            if not self._acked:
                self._acked_since = time.monotonic()
            self._acked.update(known)
            for s in known:
                insort(self._acked_order, s)
                self._fresh.pop(s, None)
            self.flush_acks()
            return len(known)

    def still_waiting(self, seqs: Iterable[int]) -> set[int]:
        """Those of `seqs` not acknowledged (nor thinned) yet."""
        with self._lock:
            index = self._load_index()
            return {s for s in seqs if index.has(s)}

    def seqs_upto(self, upto: int) -> list[int]:
        """Unacknowledged sequence numbers <= upto (what a cumulative ack covers)."""
        if upto <= 0:
            return []
        with self._lock:
            return self._load_index().upto(upto)

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
            n = bisect_right(self._acked_order, newest - KEEP_RECENT)
            due = force or n >= ACK_FLUSH_N or time.monotonic() - self._acked_since >= ACK_FLUSH_S
            if not n or not due:
                return 0
            done = self._acked_order[:n]
            try:
                self._set_sync("NORMAL")
                self._conn.execute("BEGIN IMMEDIATE")
                # Acks come nearly in order: a few ranges, not one statement per entry (issue 24: this runs
                # on the central link's network thread).
                self._conn.executemany("DELETE FROM outbox WHERE seq BETWEEN ? AND ?", ranges(done))
                self._seq.note_delivered(done[-1])
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise OutboxError(f"cannot remove {len(done)} acknowledged entries: {exc}") from exc
            self._acked.difference_update(done)
            del self._acked_order[:n]
            self._acked_since = time.monotonic()
            return len(done)

    def count(self, lane: str | None = None) -> int:
        """How many committed entries wait for acknowledgement (in one lane, or all)."""
        with self._lock:
            return self._load_index().count(lane)

    def index_snapshot(self) -> dict[str, list[int]]:
        """Lane -> unacknowledged sequence numbers, as the in-memory index has them (tests)."""
        with self._lock:
            return self._load_index().snapshot()

    def get_meta(self, key: str) -> str | None:
        """A small persistent value (boot counter, applied rules version)."""
        with self._lock:
            if key in self._buffer_meta:
                return self._buffer_meta[key]
            return get_meta(self._conn, key)

    def set_meta(self, key: str, value: str) -> None:
        """Persist a small value; inside a group (source(group=True)) it is committed with the group's
        entries, so a value written after an entry was stored is never on disk without it."""
        with self._lock:
            if self._group and self._mine():
                self._buffer_meta[key] = str(value)
                return
            self._flush_buffer(strict=False)
            set_meta(self._conn, key, value)

    def close(self) -> None:
        """Commit what is buffered, record where the sequence stopped (a clean stop leaves no gap), close."""
        with self._lock:
            try:
                self._flush_buffer(strict=False)
                self.flush_acks(force=True)
                self._seq.clean_stop()
            except (sqlite3.Error, OutboxError):
                pass  # the next start treats this as unclean and records a gap: safe
            self._conn.close()
