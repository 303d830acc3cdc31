"""In-process publish/subscribe of alarm changes, fed by database commits, read by live pages.

Only alarms and their audit trail are watched: gateways and readings change on every uplink batch,
and no page is redrawn for them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from server.db.models import Alarm, AlarmAudit

log = logging.getLogger(__name__)

_PENDING = "anxin_changed_alarms"


@dataclass(frozen=True, slots=True)
class Change:
    """Something a live page should redraw: the alarms that changed."""

    alarm_ids: frozenset[int]


class _Subscription:
    """One page's mailbox: an asyncio queue fed from any thread through its loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Change | None] = asyncio.Queue(maxsize=256)

    def offer(self, change: Change | None) -> None:
        # Runs on the subscriber's loop; a page that cannot keep up only misses redraw hints,
        # and its database poll brings it back to the truth.
        if self.queue.full():
            return
        self.queue.put_nowait(change)


class EventHub:
    """Fan-out of changes to the pages connected to this process; publish is thread-safe."""

    def __init__(self) -> None:
        self._subs: set[_Subscription] = set()
        self._lock = threading.Lock()
        self.closed = False
        self.published = 0

    def subscribe(self) -> _Subscription:
        """A mailbox on the running event loop; call `unsubscribe` when the page goes away."""
        sub = _Subscription(asyncio.get_running_loop())
        with self._lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: _Subscription) -> None:
        """Forget a mailbox."""
        with self._lock:
            self._subs.discard(sub)

    @property
    def subscribers(self) -> int:
        """How many pages listen now."""
        with self._lock:
            return len(self._subs)

    def publish(self, change: Change | None) -> None:
        """Hand a change to every page, from any thread (None tells pages the server is stopping)."""
        with self._lock:
            subs = list(self._subs)
        self.published += 1
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub.offer, change)
            except RuntimeError:  # that page's loop has closed: it is gone
                self.unsubscribe(sub)

    def close(self) -> None:
        """Tell every page's stream to end (the server is stopping)."""
        self.closed = True
        self.publish(None)


def _collect(session: Session, _ctx: Any) -> None:
    # after_flush: ids are assigned, and new/dirty still list what this flush wrote.
    ids: set[int] = session.info.setdefault(_PENDING, set())
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Alarm) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, AlarmAudit) and obj.alarm_id is not None:
            ids.add(obj.alarm_id)


def watch(sessions: sessionmaker[Session], hub: EventHub) -> None:
    """Publish every committed alarm change made through these sessions; no edits elsewhere."""

    def after_commit(session: Session) -> None:
        ids = session.info.pop(_PENDING, set())
        if ids:
            hub.publish(Change(frozenset(ids)))

    def after_rollback(session: Session) -> None:
        session.info.pop(_PENDING, None)

    event.listen(sessions, "after_flush", _collect)
    event.listen(sessions, "after_commit", after_commit)
    event.listen(sessions, "after_soft_rollback", lambda s, _t: after_rollback(s))
