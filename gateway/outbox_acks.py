"""Acknowledged outbox entries waiting to be deleted: in batches, since one page write per acknowledged
event would be most of the gateway's SD-card wear. An entry acked but not yet deleted when the power goes
is simply sent again, and the server ignores it."""

from __future__ import annotations

from bisect import bisect_right, insort

ACK_FLUSH_N = 256
ACK_FLUSH_S = 300.0
# The newest acknowledged rows stay (deleted later) so a redelivered local message can be recognised:
# the home broker redelivers at most its in-flight window (Mosquitto: 20 messages) after a crash.
KEEP_RECENT = 512


class AckedEntries:
    """The acknowledged numbers not deleted yet, as a set and in ascending order (acks come nearly in order)."""

    __slots__ = ("_order", "_since", "seqs")

    def __init__(self) -> None:
        self.seqs: set[int] = set()
        self._order: list[int] = []
        self._since = 0.0  # when the oldest undeleted one was acknowledged (monotonic)

    def __contains__(self, seq: int) -> bool:
        return seq in self.seqs

    def __bool__(self) -> bool:
        return bool(self.seqs)

    def add(self, seqs: list[int], now: float) -> None:
        if not self.seqs:
            self._since = now
        self.seqs.update(seqs)
        for s in seqs:
            insort(self._order, s)

    def due(self, newest: int, force: bool, now: float) -> list[int]:
        """Those to delete now: all older than the newest KEEP_RECENT numbers, when at least ACK_FLUSH_N
        wait or the oldest has waited ACK_FLUSH_S (or whenever there are some, with force)."""
        n = bisect_right(self._order, newest - KEEP_RECENT)
        if not n or not (force or n >= ACK_FLUSH_N or now - self._since >= ACK_FLUSH_S):
            return []
        return self._order[:n]

    def deleted(self, done: list[int], now: float) -> None:
        """The numbers due() gave are deleted from the table."""
        self.seqs.difference_update(done)
        del self._order[: len(done)]
        self._since = now
