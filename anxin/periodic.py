"""A supervised periodic task on a thread of its own: one failing round is logged, never fatal."""

from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger(__name__)


class Periodic:
    """Calls `work` every `interval_s` seconds on a daemon thread until `stop()`; no I/O in the constructor."""

    def __init__(self, name: str, interval_s: float, work: Callable[[], None]) -> None:
        self.name, self.interval_s, self.work = name, interval_s, work
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread."""
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current round."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.work()
            except Exception:  # supervisor: the task must outlive whatever one round did
                log.exception("%s failed", self.name)
