"""Which local message the outbox's writes belong to: a redelivered message stores only what its first
delivery did not (exactly once into the outbox), and a grouped message's entries wait for the group commit."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

log = logging.getLogger(__name__)

# Local messages whose stored entries are remembered for recognising a redelivery (newest first): far more
# than the home broker's in-flight window (deploy/mosquitto-pi.conf: 100) plus what waits in the worker.
SOURCE_MEMORY = 4096


class Sources:
    """Local message key -> how many entries its handling stored (the newest SOURCE_MEMORY keys), and the
    message the worker handles now: its key, its thread, the entries a redelivery skips, whether it groups."""

    __slots__ = ("_counts", "group", "key", "owner", "replays", "skip", "skipped")

    def __init__(self) -> None:
        self._counts: OrderedDict[str, int] = OrderedDict()
        self.key: str | None = None
        self.owner: int | None = None
        self.skip = 0
        self.group = False
        self.replays = 0
        self.skipped = 0

    def load(self, conn: sqlite3.Connection) -> None:
        """The newest keys and their entry counts, from the table (once, when the outbox opens)."""
        recent = conn.execute(
            "SELECT src, COUNT(*), MAX(seq) FROM outbox WHERE src IN "
            "(SELECT src FROM outbox WHERE src IS NOT NULL ORDER BY seq DESC LIMIT ?) "
            "GROUP BY src ORDER BY MAX(seq)",
            (SOURCE_MEMORY,),
        ).fetchall()
        self._counts = OrderedDict((str(r[0]), int(r[1])) for r in recent)

    def begin(self, key: str, replay: bool, group: bool) -> None:
        self.key, self.owner, self.group = key, threading.get_ident(), group
        self.skip = self._counts.get(key, 0) if replay else 0
        if self.skip:
            self.replays += 1
            log.info("redelivered local message %s: its first %d entries are already stored", key, self.skip)

    def end(self) -> None:
        self.key, self.owner, self.skip, self.group = None, None, 0, False

    def mine(self) -> bool:
        """Whether the caller is the thread handling the tagged local message."""
        return self.owner is not None and self.owner == threading.get_ident()

    def note(self, key: str, n: int) -> None:
        """`n` more (or, negative, fewer) entries of `key` are stored."""
        count = self._counts.get(key, 0) + n
        if count <= 0:
            self._counts.pop(key, None)
            return
        self._counts[key] = count
        self._counts.move_to_end(key)
        while len(self._counts) > SOURCE_MEMORY:
            self._counts.popitem(last=False)

    def take_skip(self, n: int) -> int:
        """How many of the next `n` entries the first delivery already stored (they are skipped)."""
        taken = min(self.skip, n)
        self.skip -= taken
        self.skipped += taken
        return taken


class Source:
    """Outbox.source(): a class, not a generator-based context manager (it runs for every local message)."""

    __slots__ = ("_args", "_lock", "_ready", "_sources")

    def __init__(
        self, sources: Sources, lock: AbstractContextManager[Any], ready: Callable[[], object], *args: Any
    ) -> None:
        self._sources, self._lock, self._ready, self._args = sources, lock, ready, args

    def __enter__(self) -> None:
        with self._lock:
            self._ready()  # the redelivery memory is read from the table with the index
            self._sources.begin(*self._args)

    def __exit__(self, *_exc: object) -> None:
        with self._lock:
            self._sources.end()
