"""The alarm desk's worker: escalation timers, presence checks and notification delivery, on one loop.

A new alarm does not wait for this loop: `wake(alarm_id)` hands it to the first call (server/first_call.py),
which notifies it from the commit; the loop's rounds (a poll every `poll_s`) are the fallback and do
everything else — later escalation steps, retries, reminders' timers, presence, coverage.
"""

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
from server.first_call import FirstCall
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
        first_call: bool = True,
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
        # None: new alarms wake this loop instead (the way before the first call; kept for comparison).
        self.first_call = FirstCall(sessions, escalator, notifier, clock, self.alarm_first) if first_call else None
        self._wake = threading.Event()
        self._last_presence: datetime | None = None
        self.loop = Loop("alarm-desk", self._round, wake=self._wake.set, join_s=30)

    @property
    def errors(self) -> int:
        """Rounds and first calls that failed (each is logged and retried: escalation must keep running)."""
        return self.loop.errors + (self.first_call.errors if self.first_call else 0)

    def wake(self, alarm_id: int | None = None) -> None:
        """Something changed: a new alarm goes to the first call at once; anything else runs a round now."""
        if alarm_id is not None and self.first_call is not None:
            self.first_call.hand(alarm_id)
            return
        if alarm_id is not None:
            self.alarm_first.announce()
        self._wake.set()

    def start(self) -> None:
        """Start the notifier, the first call and the worker loop."""
        self.notifier.start()
        if self.first_call is not None:
            self.first_call.start()
        self.loop.start()

    def stop(self) -> None:
        """Finish the current round and stop."""
        self.alarm_first.close()
        if self.first_call is not None:
            self.first_call.stop()
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
        # With a first call, it serves AlarmFirst: a round of this loop ending first must not release ingest.
        serves = self.first_call is None
        announced = self.alarm_first.round_begins() if serves else 0
        busy = 0
        try:
            busy = self.run_once(self.clock())
        finally:  # a failed round (the loop logs and counts it) also releases ingest, and waits like an idle one
            if serves:
                self.alarm_first.round_done(announced)
            if not busy:
                self._wake.wait(self.poll_s)
                self._wake.clear()
