"""The first call of a new alarm: from ingest's commit straight to the caregiver, on a thread kept warm.

Ingest hands the id of each alarm it has just committed (new, or pressed again after an acknowledgement)
to `FirstCall.hand`; the thread, blocked on an Event, wakes at once and in ONE transaction fires the
alarm's due escalation step with its jobs written already leased (`Escalator.fire_one`; the reminders of
an alarm pressed again are claimed, `Notifier.claim_in`), renders the messages, commits, sends on its own
thread, and records the outcome. No poll, no hand-off
to the desk's loop, one commit before the POST instead of two.

Exactly once: the step is fired under the escalator's compare-and-set on the alarm's step, and the jobs are
written already leased (`sending`, lease as the desk's), so the desk worker — which still polls every
alarm, the fallback — neither fires the step again nor claims the jobs. If this process dies mid-send the
lease runs out and the desk sends the job (at-least-once, as before); a failed send is a recorded attempt
and the job is retried by the desk after the back-off; a failure before the send gives the jobs back at once.

Alarms first: the hand announces the alarm to `AlarmFirst`, and ingest holds its next drain of readings
until this thread has sent it (at most `hold_s`).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from anxin.loop import Loop
from server.alarm_first import AlarmFirst
from server.escalation import Escalator
from server.notify import Notifier

log = logging.getLogger(__name__)


class FirstCall:
    """A warm thread that notifies each alarm handed to it; the durable jobs are the fallback."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        escalator: Escalator,
        notifier: Notifier,
        clock: Callable[[], datetime],
        alarm_first: AlarmFirst,
    ) -> None:
        self.sessions = sessions
        self.escalator = escalator
        self.notifier = notifier
        self.clock = clock
        self.alarm_first = alarm_first
        self.calls = 0  # alarms this thread notified itself (the desk did the others)
        self.errors = 0
        self._handed: deque[int] = deque()
        self._ready = threading.Event()
        self.loop = Loop("first-call", self._step, wake=self._ready.set, join_s=30)

    def hand(self, alarm_id: int) -> None:
        """From ingest, right after the commit: notify this alarm now (never blocks)."""
        self.alarm_first.announce()
        self._handed.append(alarm_id)
        self._ready.set()

    def start(self) -> None:
        """Start the thread (it waits for the first hand)."""
        self.loop.start()

    def stop(self) -> None:
        """Finish the alarm in hand and stop; anything still handed is the desk's (its jobs are due)."""
        self.loop.stop()

    def _step(self) -> None:
        self._ready.wait()
        self._ready.clear()
        announced = self.alarm_first.round_begins()
        try:
            while self._handed and not self.loop.stopping:
                self.call(self._handed.popleft())
        finally:  # ingest's readings wait for this, bounded by AlarmFirst.hold_s
            self.alarm_first.round_done(announced)

    def call(self, alarm_id: int) -> int:
        """Fire the alarm's due step, lease its due jobs and send them; how many jobs were sent or recorded."""
        now = self.clock()
        try:
            with self.sessions() as s, s.begin():
                # A new alarm: its first step's jobs, written leased to this thread. Pressed again after an
                # acknowledgement: the reminders ingest wrote, claimed here like the desk would.
                jobs = self.escalator.fire_one(s, alarm_id, now, now + self.notifier.lease)
                s.flush()
                jobs = jobs or self.notifier.claim_in(s, now, alarm_id)
                owed = self.notifier.sort_out(s, jobs, now) if jobs else None
        except Exception:  # nothing committed, nothing sent: the desk's next round fires it (the alarm is due)
            self.errors += 1
            log.exception("first call of alarm %d failed before sending; the desk worker takes it over", alarm_id)
            return 0
        if owed is None:
            return 0  # the desk fired it first, or it was not due (an info alarm, cancelled meanwhile)
        try:
            self.notifier.send_round(owed, now)
        except Exception:  # sent or not, the jobs' lease makes the desk send them after it (at-least-once)
            self.errors += 1
            log.exception("recording the first call of alarm %d failed; the desk retries after the lease", alarm_id)
        self.calls += 1
        return len(jobs)
