"""Alarm first: ingest holds its next drain of readings until the newest alarm has been notified.

Ingest announces every new alarm here (through the desk's `wake`, which hands it to the first call,
server/first_call.py); the first call marks each round of sends it runs (the desk worker's loop does,
when it runs without a first call). While a round is owed, ingest waits (at most `hold_s`) before
committing other homes' readings, so the caregiver's message does not queue behind them for the database
(SQLite's one writer) or the GIL — measured in bench/scenarios/alarm_latency.py. One object both threads
are handed: no callback wiring.
"""

from __future__ import annotations

import threading


class AlarmFirst:
    """New alarms announced vs. desk rounds begun after them; ingest holds readings while a round is owed."""

    def __init__(self, hold_s: float = 1.0) -> None:
        self.hold_s = hold_s
        self._owed = threading.Condition()
        self._announced = 0
        self._served = 0
        self._closed = False

    def announce(self) -> None:
        """A new alarm was committed: the desk owes a round that notifies it."""
        with self._owed:
            self._announced += 1

    def round_begins(self) -> int:
        """The desk starts a round: it serves every alarm announced so far (pass the result to `round_done`)."""
        with self._owed:
            return self._announced

    def round_done(self, announced: int) -> None:
        """The desk's round ended (a failed one too: the hold is bounded, never a dependency); release ingest."""
        with self._owed:
            self._served = max(self._served, announced)
            self._owed.notify_all()

    def hold_readings(self) -> bool:
        """Before a drain of readings: wait until the owed round has run (at most `hold_s`); True if it waited."""
        with self._owed:
            if self._served >= self._announced or self._closed:
                return False
            owed = self._announced
            if not self._owed.wait_for(lambda: self._served >= owed or self._closed, self.hold_s):
                # A slow channel (an SMTP server timing out) must not stall every home's readings:
                # the hold is given up for what was announced so far.
                self._served = max(self._served, owed)
            return True

    def close(self) -> None:
        """The desk is stopping: nobody waits for it any more."""
        with self._owed:
            self._closed = True
            self._owed.notify_all()
