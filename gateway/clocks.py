"""The gateway worker's two clocks, injected once and shared by its parts (intake, commands, outlet)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass
class Clocks:
    """Wall time stamps what is stored and what the rules see; monotonic time paces ticks and retries.

    Mutable on purpose: one object is shared by every part, so a test that moves time moves it for all.
    """

    wall: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic

    def utc(self) -> datetime:
        """Wall time as an aware datetime: the `now` the rules are evaluated at."""
        return datetime.fromtimestamp(self.wall(), UTC)
