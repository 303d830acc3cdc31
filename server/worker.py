"""The alarm desk's worker: escalation timers, presence checks and notification delivery, on one thread."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy.orm import Session, sessionmaker

from server import presence
from server.coverage_watch import CoverageWatch
from server.escalation import Escalator
from server.notify import Notifier

log = logging.getLogger(__name__)


class DeskWorker:
    """Polls the database (the timers live there) and wakes at once when ingest raises an alarm."""

    def __init__(
        self, sessions: sessionmaker[Session], escalator: Escalator, notifier: Notifier,
        presence_policy: presence.PresencePolicy, clock: Callable[[], datetime],
        poll_s: float = 0.5, presence_every: timedelta = timedelta(seconds=5),
        coverage: CoverageWatch | None = None,
    ) -> None:
        self.sessions = sessions
        self.escalator = escalator
        self.notifier = notifier
        self.presence_policy = presence_policy
        self.clock = clock
        self.poll_s = poll_s
        self.presence_every = presence_every
        self.coverage = coverage
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_presence: datetime | None = None
        self.errors = 0
        # New alarms announced vs. rounds that began after them: while a round is owed, ingest holds
        # its next drain of readings (`wait_for_alarm_round`), so the caregiver's message does not
        # queue behind other homes' readings for the database (SQLite's one writer) or the GIL.
        self._owed = threading.Condition()
        self._announced = 0
        self._served = 0

    def wake(self, alarm_id: int | None = None) -> None:
        """Something changed (a new alarm): run now instead of at the next poll."""
        if alarm_id is not None:
            with self._owed:
                self._announced += 1
        self._wake.set()

    def wait_for_alarm_round(self, timeout_s: float = 1.0) -> bool:
        """Until the round that notifies the newest alarm has run (at most `timeout_s`); True if it waited."""
        with self._owed:
            if self._served >= self._announced or self._stop.is_set():
                return False
            owed = self._announced
            if not self._owed.wait_for(lambda: self._served >= owed or self._stop.is_set(), timeout_s):
                # A slow channel (an SMTP server timing out) must not stall every home's readings:
                # the hold is given up for what was announced so far.
                self._served = max(self._served, owed)
            return True

    def start(self) -> None:
        """Start the worker thread."""
        self.notifier.start()
        self._thread = threading.Thread(target=self._run, name="alarm-desk", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish the current round and stop."""
        self._stop.set()
        self._wake.set()
        with self._owed:
            self._owed.notify_all()
        if self._thread:
            self._thread.join(timeout=30)
        self.notifier.stop()

    def run_once(self, now: datetime) -> int:
        """One round at time `now` (tests call this with their own clock); returns the work done."""
        work = 0
        if self._last_presence is None or now - self._last_presence >= self.presence_every:
            with self.sessions() as s, s.begin():
                raised, cleared = presence.check(s, self.presence_policy, now)
            self._last_presence = now
            work += len(raised) + cleared
        if self.coverage is not None and self.coverage.due(now):
            with self.sessions() as s, s.begin():
                work += self.coverage.check(s, now)
        with self.sessions() as s, s.begin():
            work += self.escalator.tick(s, now)
        work += self.notifier.tick(now)
        return work

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._owed:
                announced = self._announced
            try:
                busy = self.run_once(self.clock())
            except Exception:  # supervisor: a failed round is retried; escalation must keep running
                self.errors += 1
                log.exception("alarm desk round failed; retrying")
                busy = 0
            with self._owed:  # a failed round also releases ingest: its hold is bounded, not a dependency
                self._served = max(self._served, announced)
                self._owed.notify_all()
            if not busy:
                self._wake.wait(self.poll_s)
                self._wake.clear()
