"""Ingest from MQTT: a priority queue (alarms first) feeding `IngestStore`, acknowledged after commit."""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy.orm import Session, sessionmaker

from anxin import protocol
from server.ingest_checks import MAX_SKEW, corrected_time, json_safe, measured_time  # noqa: F401 (re-exported)
from server.ingest_store import IngestResult, IngestStore, Publish

log = logging.getLogger(__name__)

__all__ = ["Ingest", "IngestResult", "IngestStore", "MAX_SKEW", "corrected_time", "drain_bytes", "json_safe",
           "measured_time"]


def drain_bytes(database_url: str) -> int:
    """How much one drain may take in (payload bytes) on this database.

    An alarm that arrives while a drain of readings is being committed waits for that commit.
    SQLite: 256 KiB (~1,800 readings, ~0.1 s under full load) bounds that wait. PostgreSQL: 1 MiB
    (~7,000 readings): the per-drain cost (~11 ms) makes smaller drains too slow for the ingest
    target there. Measured in docs/performance.md.
    """
    return 256 * 1024 if database_url.startswith("sqlite") else 1024 * 1024


class Ingest(IngestStore):
    """Consumes uplink messages on one thread; drains what is queued into one transaction, acks after commit."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        publish: Publish,
        on_new_alarm: Callable[[int], None],
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        max_drain: int = 200,
        max_drain_bytes: int = 1024 * 1024,
        on_readings: Callable[[list[dict[str, Any]]], None] = lambda _r: None,
        before_readings: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__(sessions, publish, on_new_alarm, clock, on_readings)
        self.max_drain = max_drain
        self.max_drain_bytes = max_drain_bytes  # see drain_bytes()
        # Called before a drain of readings; True when it held us back so the desk could notify a new alarm.
        self.before_readings = before_readings
        # (priority, arrival, item): batches carrying an alarm overtake queued reading batches, so a
        # resident's SOS does not wait behind other homes' backlog (measured in bench/scenarios/alarm_latency.py).
        self._queue: queue.PriorityQueue[tuple[int, int, tuple[str, bytes] | None]] = queue.PriorityQueue()
        self._arrival = itertools.count()
        self._thread: threading.Thread | None = None

    def on_message(self, topic: str, payload: bytes) -> None:
        """From the MQTT edge: only enqueue (alarms first)."""
        priority = 0 if protocol.carries_alarm(payload) else 1
        self._queue.put((priority, next(self._arrival), (topic, payload)))

    def start(self) -> None:
        """Run the ingest thread."""
        self._thread = threading.Thread(target=self._run, name="ingest", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Drain what is queued, then stop."""
        self._queue.put((2, next(self._arrival), None))
        if self._thread:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            priority, arrival, first = self._queue.get()
            if first is None:
                break
            if priority and self.before_readings():
                # We waited for the desk to notify a new alarm: another alarm may have come meanwhile.
                self._queue.put((priority, arrival, first))
                continue
            items, size = [first], len(first[1])
            # Whatever arrived meanwhile joins this transaction: one commit for many batches is
            # what makes ingest fast, and under light load it is still one message at a time.
            # Alarms and readings never share one: an alarm's commit (and its caregiver's message)
            # must not wait for a group of readings, and a reading group stops where an alarm arrives.
            while len(items) < self.max_drain and size < self.max_drain_bytes:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt[2] is None:
                    stopping = True
                    break
                if nxt[0] != priority:
                    self._queue.put(nxt)  # keeps its place: same priority and arrival number
                    break
                items.append(nxt[2])
                size += len(nxt[2][1])
            try:
                self.handle_many(items)
            except Exception:  # supervisor: the messages stay unacknowledged, so the gateways resend them
                self.counters["internal_errors"] += 1
                log.exception("ingest failed on %d message(s)", len(items))
