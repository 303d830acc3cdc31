"""Ingest from MQTT: two lanes (alarms, everything else) feeding `IngestStore`, acknowledged after commit."""

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

    PostgreSQL: 1 MiB (~7,000 readings); bigger drains make ingest faster, and the alarm lane
    commits beside a drain in progress. SQLite has one writer, so an alarm that arrives mid-drain
    waits for its commit: 256 KiB (~1,800 readings, ~0.1 s under full load) bounds that wait.
    Measured in docs/performance.md.
    """
    return 256 * 1024 if database_url.startswith("sqlite") else 1024 * 1024


class Ingest(IngestStore):
    """Consumes uplink messages on two threads — one for batches carrying an alarm, one for the rest —
    each draining what is queued into one transaction and acknowledging after the commit."""

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
        # Alarms overtake readings (DESIGN.md): batches carrying an alarm have their own queue and thread,
        # so a resident's SOS waits neither behind other homes' queued batches nor for the drain of
        # readings being committed (with PostgreSQL the two commit side by side). The reading thread
        # starts no new drain while an alarm batch is queued or being committed (`_alarms_owed`), which
        # keeps SQLite's one writer for the alarm. (priority, arrival, item) in `_queue` keeps alarms
        # first too when they are put there directly.
        self._queue: queue.PriorityQueue[tuple[int, int, tuple[str, bytes] | None]] = queue.PriorityQueue()
        self._alarms: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self._alarms_owed = 0
        self._alarm_cv = threading.Condition()
        self._arrival = itertools.count()
        self._threads: list[threading.Thread] = []

    def on_message(self, topic: str, payload: bytes) -> None:
        """From the MQTT edge: only enqueue, alarms in their own lane."""
        if protocol.carries_alarm(payload):
            with self._alarm_cv:
                self._alarms_owed += 1
            self._alarms.put((topic, payload))
        else:
            self._queue.put((1, next(self._arrival), (topic, payload)))

    def start(self) -> None:
        """Run the ingest threads."""
        self._threads = [threading.Thread(target=self._run_alarms, name="ingest-alarms", daemon=True),
                         threading.Thread(target=self._run, name="ingest", daemon=True)]
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        """Drain what is queued, then stop."""
        self._alarms.put(None)
        self._queue.put((2, next(self._arrival), None))
        for t in self._threads:
            t.join(timeout=30)

    def _run_alarms(self) -> None:
        stopping = False
        while not stopping:
            first = self._alarms.get()
            if first is None:
                break
            items = [first]
            while len(items) < self.max_drain:
                try:
                    nxt = self._alarms.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stopping = True
                    break
                items.append(nxt)
            try:
                self.handle_many(items)
            except Exception:  # supervisor: the messages stay unacknowledged, so the gateways resend them
                self.counters["internal_errors"] += 1
                log.exception("ingest failed on %d alarm message(s)", len(items))
            finally:
                with self._alarm_cv:
                    self._alarms_owed -= len(items)
                    self._alarm_cv.notify_all()

    def _wait_for_alarm_lane(self, timeout_s: float = 1.0) -> bool:
        """Before a drain of readings: let queued alarm batches commit first (bounded); True if it waited."""
        with self._alarm_cv:
            if self._alarms_owed <= 0:
                return False
            self._alarm_cv.wait_for(lambda: self._alarms_owed <= 0, timeout_s)
            return True

    def _run(self) -> None:
        stopping = False
        while not stopping:
            priority, arrival, first = self._queue.get()
            if first is None:
                break
            if priority and (self._wait_for_alarm_lane() | self.before_readings()):
                # We waited for the alarm lane or the desk: another alarm may have come meanwhile.
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
