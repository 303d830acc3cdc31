"""The one supervised loop: a named daemon thread that repeats a step until stopped.

Every long-running part of the gateway and the server (worker, uplink, watchdog, SMS fallback, serial
port, heartbeat, desk worker, ingest, broker, probes) runs on one of these, so start, stop, the
"last alive" time the watchdog reads and the rule "one failing step is counted and logged, never
fatal" are written once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Loop:
    """Calls `step()` on a daemon thread until `stop()`; no I/O in the constructor.

    - `interval_s`: wait this long (interruptibly) before each step — a periodic task. `None` calls the
      step back to back: the step blocks on its own queue or port, and returns to let the loop check stop.
    - `wake`: called by `stop()` after the stop flag is set, to unblock a step waiting on a queue or event.
    - `join_s`: how long `stop()` waits for the thread (ingest drains what is queued first).
    A step that raises is logged with its traceback and counted in `errors`; the loop goes on after
    `after_error_s`, so a step that fails the same way every time does not spin a core and flood the log.
    """

    def __init__(
        self,
        name: str,
        step: Callable[[], object],
        *,
        interval_s: float | None = None,
        wake: Callable[[], object] | None = None,
        join_s: float = 5.0,
        after_error_s: float = 0.5,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.step = step
        self.interval_s = interval_s
        self.wake = wake
        self.join_s = join_s
        self.after_error_s = after_error_s
        self.monotonic = monotonic
        self.errors = 0
        self.alive_at = monotonic()  # when the last step began: a watchdog restarts the process when stale
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        """True once `stop()` was called: a long step should return soon."""
        return self._stop.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep inside a step, cut short by `stop()`; True when stopping."""
        return self._stop.wait(seconds)

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is not None:
            raise RuntimeError(f"loop {self.name} already started")
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to end after the current step and wait up to `join_s` for it."""
        self._stop.set()
        if self.wake is not None:
            self.wake()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.join_s)

    def is_alive(self) -> bool:
        """Whether the thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def run_once(self) -> bool:
        """One guarded step on the caller's thread (the loop body; tests drive it directly); False if it failed."""
        self.alive_at = self.monotonic()
        try:
            self.step()
        except Exception:  # supervisor: the loop must outlive whatever one step did
            self.errors += 1
            log.exception("%s failed", self.name)
            return False
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.interval_s is not None and self._stop.wait(self.interval_s):
                break
            if not self.run_once() and self._stop.wait(self.after_error_s):
                break
