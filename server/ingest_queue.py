"""What waits for ingest: uplink messages in arrival order, except that alarms overtake readings.

Taken a drain at a time: whatever arrived meanwhile joins one transaction (one commit for many
batches is what makes ingest fast; under light load it is still one message at a time). Alarms and
readings never share a drain: an alarm's commit, and its caregiver's message, must not wait for a
group of readings, and a group of readings stops where an alarm arrives.
"""

from __future__ import annotations

import itertools
import queue
from dataclasses import dataclass, field

from anxin import protocol

ALARM, OTHER, STOP = 0, 1, 2  # priorities: alarms first; the stop mark after everything queued before it

Message = tuple[str, bytes]  # (topic, payload) as it came from the broker


@dataclass(order=True, frozen=True, slots=True)
class Queued:
    """One queued message; ordered by (priority, arrival), so a message put back keeps its place."""

    priority: int
    arrival: int
    message: Message | None = field(compare=False)  # None: the stop mark
    token: object = field(default=None, compare=False)  # the source's handle (a JetStream message), settled later


@dataclass(frozen=True, slots=True)
class Drain:
    """Messages to commit together, all alarms or all other; `last` when the stop mark was reached."""

    messages: list[Message]
    readings: bool
    last: bool
    tokens: list[object] = field(default_factory=list)  # the sources' handles of messages that came with one


class UplinkQueue:
    """A priority queue of uplink messages (thread-safe: the MQTT thread puts, the ingest thread takes)."""

    def __init__(self, max_drain: int = 200, max_drain_bytes: int = 1024 * 1024) -> None:
        self.max_drain = max_drain
        self.max_drain_bytes = max_drain_bytes  # see server.ingest.drain_bytes()
        self._queue: queue.PriorityQueue[Queued] = queue.PriorityQueue()
        self._arrival = itertools.count()

    def put(self, topic: str, payload: bytes, token: object = None) -> None:
        """Queue a message: one carrying an alarm goes before every queued message without one.

        `token`: what the source needs to settle the message once its drain is committed (or not).
        """
        priority = ALARM if protocol.carries_alarm(payload) else OTHER
        self._queue.put(Queued(priority, next(self._arrival), (topic, payload), token))

    def close(self) -> None:
        """Mark the end: what is queued now is still taken, then `take` reports the last drain."""
        self._queue.put(Queued(STOP, next(self._arrival), None))

    def first(self, block: bool = True) -> Queued | None:
        """The next message, waiting for one when `block`; None when nothing is queued (not blocking)."""
        try:
            return self._queue.get(block)
        except queue.Empty:
            return None

    def put_back(self, item: Queued) -> None:
        """Return a message taken with `first` (it keeps its place: same priority and arrival number)."""
        self._queue.put(item)

    def drain(self, first: Queued) -> Drain:
        """`first` and whatever of its priority is queued behind it, up to the drain's limits."""
        if first.message is None:
            return Drain([], False, last=True)
        messages, size = [first.message], len(first.message[1])
        tokens = [] if first.token is None else [first.token]
        while len(messages) < self.max_drain and size < self.max_drain_bytes:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt.message is None:
                return Drain(messages, first.priority != ALARM, last=True, tokens=tokens)
            if nxt.priority != first.priority:
                self._queue.put(nxt)  # keeps its place: same priority and arrival number
                break
            messages.append(nxt.message)
            size += len(nxt.message[1])
            if nxt.token is not None:
                tokens.append(nxt.token)
        return Drain(messages, first.priority != ALARM, last=False, tokens=tokens)
