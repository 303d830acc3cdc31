"""The outbox's disk cap: past it, the oldest waiting readings go first and say so in a gap record.

Checked from the worker's tick (gateway/service.py), never inside a commit: an alarm's commit must not
pay for thinning. Alarms and events are never thinned.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from anxin import protocol
from gateway.outbox_db import ranges

if TYPE_CHECKING:
    from gateway.outbox import Outbox


class DiskCap:
    """How many bytes the outbox may use, and when it is due to be checked (after `check_every` entries).

    The worker's tick (once a second) checks whenever anything was committed since its last check: three
    PRAGMAs. A larger `check_every` left the last entries of a stream unchecked until more came — after an
    outage the link returned before the cap was enforced, and the check that then ran thinned readings
    already on their way (tests/faults: test_disk_cap_reached_during_outage)."""

    __slots__ = ("check_every", "checked_at", "errors", "max_bytes", "thinned")

    def __init__(self, max_bytes: int | None = None, check_every: int = 1) -> None:
        self.max_bytes = max_bytes
        self.check_every = check_every
        self.checked_at = 0  # the outbox's count of committed entries at the last check
        self.thinned = 0
        self.errors = 0  # checks that failed (tried again at a later tick)

    def due(self, committed: int) -> bool:
        """Whether to check, `committed` entries having been committed since the outbox opened."""
        return bool(self.max_bytes) and committed - self.checked_at >= self.check_every

    def enforce(self, box: Outbox, ts: float, mono: float | None, in_flight: Collection[int] = ()) -> int:
        """Thin the oldest waiting readings, a tenth of them at a time, until the outbox is under its cap;
        each thinning is one gap record. Readings `in_flight` (published, not yet acknowledged: the server
        may have them) are passed over while others wait; they go only as a last resort, the cap being
        hard. Returns how many readings were thinned."""
        table = box.table
        done = 0
        while self.max_bytes and table.used_bytes() > self.max_bytes:
            readings = box.count("reading")
            if readings == 0:
                break  # only alarms and events are left: they are never dropped
            table.delete_acked(force=True)
            want = max(1, readings // 10)
            seqs = table.oldest("reading", want, skip=in_flight) or table.oldest("reading", want)
            first, last = table.thin(seqs)
            gap = protocol.GapBody("disk_cap", tuple((a, b) for a, b in ranges(seqs)), len(seqs), first, last)
            self.thinned += len(seqs)
            done += len(seqs)
            box.put("gap", gap.to_wire(), ts, mono)
        self.checked_at = table.committed  # only now: a check that failed is due again at the next tick
        return done
