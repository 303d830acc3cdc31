"""Sign-in throttling: per client address a window of failures, per account a growing delay, never a lock."""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

ADDRESS_FAILURES = 10
ADDRESS_WINDOW = timedelta(minutes=15)
# Per account: 0 s for the first 3 failures, then 1, 2, 4, 8 s … capped. The right password still gets in
# (after the wait) from any terminal: an account is never locked, so an attacker cannot lock staff out.
ACCOUNT_FREE_FAILURES = 3
ACCOUNT_MAX_DELAY_S = 8.0


@dataclass
class LoginThrottle:
    """Counts failed sign-ins in memory (per process: each process of a split deployment counts its own)."""

    clock: Callable[[], datetime]
    max_delay_s: float = ACCOUNT_MAX_DELAY_S
    counters: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _by_address: dict[str, deque[datetime]] = field(default_factory=dict)
    _by_account: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, address: str) -> int:
        """Seconds this address must wait before any sign-in is looked at (0: go ahead)."""
        now = self.clock()
        with self._lock:
            failures = self._recent(address, now)
            if len(failures) < ADDRESS_FAILURES:
                return 0
            self.counters["throttled"] += 1
            return max(1, int((failures[0] + ADDRESS_WINDOW - now).total_seconds()) + 1)

    def account_delay(self, username: str) -> float:
        """How long to hold this attempt for the account before answering (grows with its failures)."""
        with self._lock:
            extra = self._by_account.get(username.lower(), 0) - ACCOUNT_FREE_FAILURES
        if extra < 0:
            return 0.0
        self.counters["delayed"] += 1
        return min(self.max_delay_s, float(2**extra))

    def failed(self, address: str, username: str) -> bool:
        """Record a wrong password (or unknown user); True when this failure starts the address's throttling."""
        now = self.clock()
        with self._lock:
            failures = self._recent(address, now)
            failures.append(now)
            key = username.lower()
            if len(self._by_account) > 100_000:  # a spray of made-up usernames must not grow memory for ever
                self._by_account.clear()
            self._by_account[key] = self._by_account.get(key, 0) + 1
            self.counters["failed"] += 1
            return len(failures) == ADDRESS_FAILURES

    def succeeded(self, username: str) -> None:
        """A right password resets the account's delay (not the address's window)."""
        with self._lock:
            self._by_account.pop(username.lower(), None)
            self.counters["succeeded"] += 1

    def _recent(self, address: str, now: datetime) -> deque[datetime]:
        failures = self._by_address.setdefault(address, deque())
        while failures and failures[0] <= now - ADDRESS_WINDOW:
            failures.popleft()
        return failures
