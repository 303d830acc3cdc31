"""The uplink's in-flight window: what was published on the link and not acknowledged, and when it is due again.

Entries published together with the same attempt count share one resend deadline (a group): one heap item
and one jitter draw per batch instead of per entry (issue 24). Each entry keeps its own attempt count, so a
resend sent with fresh entries backs off longer than they do. A group is forgotten once none of its entries
is in flight under it; its heap item is then skipped when it comes up. Not thread-safe: the uplink holds its
lock around every call.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable

from gateway.outbox_db import LANE_ORDER, Entry


class _Group:
    """Entries sent in one batch with the same attempt count: their common resend deadline's bookkeeping."""

    __slots__ = ("live", "seqs")

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.live = 0  # how many of seqs are still in flight under this group


class Window:
    """In-flight entries by sequence number, their groups' deadlines, what is overdue, and the per-lane cursor."""

    def __init__(self, backoff: Callable[[int], float]) -> None:
        self.backoff = backoff  # attempts -> seconds until the next resend (with jitter)
        # seq -> (group, attempts, lane order) of what was published on this link and not acknowledged.
        self.inflight: dict[int, tuple[int, int, int]] = {}
        # What is past its deadline and waits to be resent (seq -> lane order): no step scans the window.
        self.overdue: dict[int, int] = {}
        # Lane order -> highest seq published on this link: what was never sent lies above it.
        self.cursor: dict[int, int] = {}
        self.groups: dict[int, _Group] = {}
        self._deadlines: list[tuple[float, int]] = []  # (deadline, group)
        self._group_no = 0

    def clear(self) -> None:
        """Everything unacknowledged counts as never sent."""
        self.inflight.clear()
        self.overdue.clear()
        self.cursor.clear()
        self.groups.clear()
        self._deadlines.clear()

    def __len__(self) -> int:
        return len(self.inflight)

    def room(self, max_inflight: int) -> int:
        """How many more entries may be sent: overdue ones count as not in flight."""
        return max_inflight - (len(self.inflight) - len(self.overdue))

    def due(self, seq: int) -> bool:
        """Whether an entry may be sent now: never sent on this link, or past its deadline."""
        return seq not in self.inflight or seq in self.overdue

    def attempts(self, seq: int) -> int:
        """How often an entry was published on this link without an acknowledgement (0: never)."""
        held = self.inflight.get(seq)
        return held[1] if held else 0

    def drop(self, seq: int) -> None:
        """Forget one entry's flight: acknowledged, thinned or gone."""
        current = self.inflight.pop(seq, None)
        self.overdue.pop(seq, None)
        if current is not None:
            group = self.groups.get(current[0])
            if group is not None:
                group.live -= 1
                if group.live <= 0:
                    del self.groups[current[0]]

    def drop_many(self, seqs: Iterable[int]) -> None:
        """Forget the flight of several entries (an ack)."""
        for seq in seqs:
            self.drop(seq)

    def collect_overdue(self, now: float) -> None:
        """Move what has passed its resend deadline to the overdue set."""
        heap, inflight = self._deadlines, self.inflight
        while heap and heap[0][0] <= now:
            _deadline, gid = heapq.heappop(heap)
            group = self.groups.pop(gid, None)
            if group is None:
                continue  # everything it carried was acknowledged or sent again meanwhile
            for seq in group.seqs:
                current = inflight.get(seq)
                if current is not None and current[0] == gid:
                    self.overdue[seq] = current[2]

    def drop_overdue_alarms(self, unacked: set[int]) -> None:
        """Overdue alarms the outbox no longer holds were acknowledged meanwhile."""
        for seq in [s for s, lane in self.overdue.items() if lane == 0 and s not in unacked]:
            self.drop(seq)

    def overdue_entries(self, want: int) -> list[tuple[int, int]]:
        """(lane order, seq) of up to `want` overdue readings and events, in sending order."""
        return sorted((lane, s) for s, lane in self.overdue.items() if lane > 0)[:want]

    def record_sent(self, entries: list[Entry], now: float) -> int:
        """What was just published is in flight until its group's deadline; returns how many were resends."""
        inflight, groups, overdue, cursor = self.inflight, self.groups, self.overdue, self.cursor
        made: dict[int, tuple[int, _Group]] = {}  # attempts -> this batch's group for them
        resent = 0
        for e in entries:
            seq = e.seq
            prev = inflight.get(seq)
            if prev is None:
                attempts = 1
            else:
                attempts = prev[1] + 1
                resent += 1
                overdue.pop(seq, None)
                old = groups.get(prev[0])
                if old is not None:
                    old.live -= 1
                    if old.live <= 0:
                        del groups[prev[0]]
            slot = made.get(attempts)
            if slot is None:
                self._group_no += 1
                slot = made[attempts] = (self._group_no, _Group())
                groups[self._group_no] = slot[1]
                heapq.heappush(self._deadlines, (now + self.backoff(attempts), self._group_no))
            gid, group = slot
            group.seqs.append(seq)
            group.live += 1
            lane = LANE_ORDER[e.lane]
            inflight[seq] = (gid, attempts, lane)
            if lane and seq > cursor.get(lane, 0):
                cursor[lane] = seq
        return resent

    def next_deadline(self, now: float) -> float:
        """Seconds until something is due (1 s with nothing in flight, 10 ms when something is overdue)."""
        if not self.inflight:
            return 1.0
        if self.overdue:
            return 0.01
        heap = self._deadlines
        while heap and heap[0][1] not in self.groups:
            heapq.heappop(heap)  # stale: all it carried was acknowledged, or sent again in a later group
        return max(0.01, heap[0][0] - now) if heap else 0.01
