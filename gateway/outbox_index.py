"""The outbox's in-memory index: which committed entries wait for the server's acknowledgement, per lane.

The uplink asks for the next entries to send many times a second; reading the table for that grows with
everything queued, in flight and acknowledged-but-not-yet-deleted (issue 24). The index holds only
sequence numbers (8 bytes each in an array, no row bodies), is built from the table when the outbox
opens, and is changed only after the transaction that changed the table has committed: an entry the
index names is on disk.
"""

from __future__ import annotations

import heapq
import sqlite3
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator

LANES = ("alarm", "event", "gap", "reading")
COMPACT_AFTER = 4096  # removed numbers tolerated before a lane's array is rewritten


class Lane:
    """The sequence numbers of one lane, ascending: an array appended at the end, with removals marked
    and swept when the front is gone or when half of it is."""

    __slots__ = ("_gone", "_head", "_seqs", "live")

    def __init__(self, seqs: Iterable[int] = ()) -> None:
        self._seqs = array("q", sorted(seqs))
        self._head = 0
        self._gone: set[int] = set()
        self.live = len(self._seqs)

    def add(self, seq: int) -> None:
        """A newly committed entry (normally above every number present)."""
        if self._seqs and seq <= self._seqs[-1]:
            if self.has(seq):
                return
            if seq in self._gone:  # re-added after a removal (cannot happen in the outbox; kept correct)
                self._gone.discard(seq)
                self.live += 1
                return
            self._seqs = array("q", sorted([*self, seq]))
            self._head, self._gone = 0, set()
            self.live = len(self._seqs)
            return
        self._seqs.append(seq)
        self.live += 1

    def has(self, seq: int) -> bool:
        """Whether the entry is waiting."""
        i = bisect_left(self._seqs, seq, self._head)
        return i < len(self._seqs) and self._seqs[i] == seq and seq not in self._gone

    def discard(self, seq: int) -> bool:
        """Remove an entry (acknowledged, or thinned); False when it was not waiting."""
        if not self.has(seq):
            return False
        self._gone.add(seq)
        self.live -= 1
        seqs, n = self._seqs, len(self._seqs)
        while self._head < n and seqs[self._head] in self._gone:
            self._gone.discard(seqs[self._head])
            self._head += 1
        if (self._head > COMPACT_AFTER and 2 * self._head > n) or (
            len(self._gone) > COMPACT_AFTER and 2 * len(self._gone) > self.live
        ):
            self._seqs = array("q", list(self))
            self._head, self._gone = 0, set()
        return True

    def after(self, seq: int = 0) -> Iterator[int]:
        """Waiting numbers above `seq`, ascending (the caller holds the outbox lock while it iterates)."""
        seqs, gone = self._seqs, self._gone
        for i in range(bisect_right(seqs, seq, self._head), len(seqs)):
            s = seqs[i]
            if s not in gone:
                yield s

    def __iter__(self) -> Iterator[int]:
        return self.after(0)


class PendingIndex:
    """Every committed, unacknowledged entry, by lane; events and gap records share a lane order."""

    def __init__(self, lanes: dict[str, Lane] | None = None) -> None:
        self.lanes = lanes or {name: Lane() for name in LANES}

    @classmethod
    def load(cls, conn: sqlite3.Connection, acked: Iterable[int] = ()) -> PendingIndex:
        """Built from the table (at start): one pass in sequence order, so each lane's numbers come ascending."""
        by_lane: dict[str, list[int]] = {name: [] for name in LANES}
        for seq, lane in conn.execute("SELECT seq, lane_name FROM outbox ORDER BY seq"):
            by_lane.setdefault(lane, []).append(seq)
        done = set(acked)
        return cls({name: Lane(s for s in seqs if s not in done) for name, seqs in by_lane.items()})

    def add(self, lane: str, seq: int) -> None:
        """An entry just committed."""
        self.lanes[lane].add(seq)

    def discard(self, seq: int) -> str | None:
        """Remove an entry; returns its lane, or None when it was not waiting."""
        for name in ("reading", "alarm", "event", "gap"):
            lane = self.lanes.get(name)
            if lane is not None and lane.discard(seq):
                return name
        return None

    def has(self, seq: int) -> bool:
        """Whether the entry is waiting (in any lane)."""
        for name in ("reading", "alarm", "event", "gap"):  # readings first: nearly everything is one
            lane = self.lanes.get(name)
            if lane is not None and lane.has(seq):
                return True
        return False

    def count(self, lane: str | None = None) -> int:
        """How many entries wait (in one lane, or all)."""
        if lane is not None:
            found = self.lanes.get(lane)
            return found.live if found else 0
        return sum(x.live for x in self.lanes.values())

    def ordered(self, after: dict[int, int] | None = None) -> Iterator[tuple[int, int]]:
        """(lane order, seq) of waiting entries in sending order — alarms, then events and gap records,
        then readings, each by sequence — starting above `after[lane order]` in each lane order."""
        start = after or {}
        yield from ((0, s) for s in self.lanes["alarm"].after(start.get(0, 0)))
        one = start.get(1, 0)
        yield from ((1, s) for s in heapq.merge(self.lanes["event"].after(one), self.lanes["gap"].after(one)))
        yield from ((2, s) for s in self.lanes["reading"].after(start.get(2, 0)))

    def upto(self, seq: int) -> list[int]:
        """Waiting numbers <= seq (what a cumulative ack covers)."""
        out: list[int] = []
        for lane in self.lanes.values():
            for s in lane:
                if s > seq:
                    break
                out.append(s)
        return out

    def snapshot(self) -> dict[str, list[int]]:
        """Lane -> waiting numbers (tests compare it with the table)."""
        return {name: list(lane) for name, lane in self.lanes.items() if lane.live}
