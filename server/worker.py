"""The alarm desk's worker: escalation timers, presence checks and notification delivery, on one loop."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from anxin.loop import Loop
from server import presence
from server.alarm_first import AlarmFirst
from server.coverage_watch import CoverageWatch
from server.escalation import Escalator
from server.notify import Notifier


class DeskWorker:
    """Polls the database (the timers live there) and wakes at once when ingest raises an alarm."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        escalator: Escalator,
        notifier: Notifier,
        presence_policy: presence.PresencePolicy,
        clock: Callable[[], datetime],
        poll_s: float = 0.5,
        presence_every: timedelta = timedelta(seconds=5),
        coverage: CoverageWatch | None = None,
        alarm_first: AlarmFirst | None = None,
    ) -> None:
        self.sessions = sessions
        self.escalator = escalator
        self.notifier = notifier
        self.presence_policy = presence_policy
        self.clock = clock
        self.poll_s = poll_s
        self.presence_every = presence_every
        self.coverage = coverage
        # Shared with ingest, which holds its next drain of readings while a round is owed for a new alarm.
        self.alarm_first = alarm_first or AlarmFirst()
        self._wake = threading.Event()
        self._last_presence: datetime | None = None
        self.loop = Loop("alarm-desk", self._round, wake=self._wake.set, join_s=30)

    @property
    def errors(self) -> int:
        """Rounds that failed (each is logged and retried: escalation must keep running)."""
        return self.loop.errors

    def wake(self, alarm_id: int | None = None) -> None:
        """Something changed (a new alarm): run now instead of at the next poll."""
        if alarm_id is not None:
            self.alarm_first.announce()
        self._wake.set()

    def start(self) -> None:
        """Start the notifier and the worker loop."""
        self.notifier.start()
        self.loop.start()

    def stop(self) -> None:
        """Finish the current round and stop."""
        self.alarm_first.close()
        self.loop.stop()
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

    def _round(self) -> None:
        """The loop's step: one round, then (when idle) wait for a wake or the next poll."""
        announced = self.alarm_first.round_begins()
        busy = 0
        try:
            busy = self.run_once(self.clock())
        finally:  # a failed round (the loop logs and counts it) also releases ingest, and waits like an idle one
            self.alarm_first.round_done(announced)
            if not busy:
                self._wake.wait(self.poll_s)
                self._wake.clear()
