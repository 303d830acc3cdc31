"""The presence book: what gateways said about being alive, held in memory and written to `gateways` in bulk.

A quiet home's heartbeat (its retained "online" state, or an uplink batch with no events) needs no
transaction of its own: the book notes it, and every `every_s` (and at stop) one executemany UPDATE
writes all notes since the last flush — last_seen, state and since when, boot id. Batches with events
note their gateway here too, after their commit, so the ingest transaction never touches presence.

The desk (server/presence.py) reads the table, so what it sees may be up to one flush old; its limits
are minutes (GATEWAY_SILENT_AFTER_S, GATEWAY_OFFLINE_GRACE_S). A crash loses at most the notes of one
flush interval: a few seconds of staleness, healed by the gateway's next heartbeat.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Boolean, Table, and_, bindparam, case, func, not_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from anxin.loop import Loop
from server.db.models import Gateway
from server.home_text import for_log

log = logging.getLogger(__name__)

FLUSH_EVERY_S = 2.0  # how stale the table may be; the desk's limits are minutes


@dataclass(frozen=True, slots=True)
class Note:
    """What the book knows about one gateway since the last flush; None: nothing new about that column."""

    seen_at: datetime | None  # last heard from the gateway itself (a last will is the broker speaking)
    state: str | None
    state_at: datetime | None
    boot_id: str | None
    # The state changed within the notes merged here (gone and back, back and gone): `state_at` is then the
    # start of the state it ends in, written even when the table already shows that state from before.
    turned: bool = False

    def then(self, later: Note) -> Note:
        """This note followed by a later one: the later one wins where it says something."""
        turned = bool(self.state and later.state and later.state != self.state)
        return Note(
            later.seen_at or self.seen_at,
            later.state or self.state,
            later.state_at if later.state and later.state != self.state else self.state_at,  # "since"
            later.boot_id or self.boot_id,
            self.turned or later.turned or turned,
        )


def storable(text: str, limit: int) -> str:
    """Gateway-sent text as every database holds it: no NUL (PostgreSQL refuses it), no lone surrogate (json
    reads one, UTF-8 cannot write it), at most `limit` characters. One flush writes every gateway's notes,
    so one note the database refuses would stop the presence of every home (found in review, issue 22/24)."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")[:limit]


# One UPDATE for every note of a flush (executemany): a column only moves forward, or keeps its value
# where the note says nothing; the state's time changes only with the state ("online since").
_GATEWAYS = cast(Table, Gateway.__table__)  # Core: a list of parameters then runs as one executemany
_GW = _GATEWAYS.c
_UPDATE = (
    update(_GATEWAYS)
    .where(_GW.id == bindparam("b_id"))
    .values(
        last_seen=case(
            (or_(_GW.last_seen.is_(None), _GW.last_seen < bindparam("b_seen")), bindparam("b_seen")),
            else_=_GW.last_seen,
        ),
        state_at=case(
            (bindparam("b_state").is_(None), _GW.state_at),
            (and_(_GW.state == bindparam("b_state"), not_(bindparam("b_turned", type_=Boolean))), _GW.state_at),
            else_=bindparam("b_state_at"),
        ),
        state=func.coalesce(bindparam("b_state"), _GW.state),
        boot_id=func.coalesce(bindparam("b_boot"), _GW.boot_id),
    )
)


class PresenceBook:
    """Notes presence on any thread; `flush` writes the notes; `start` flushes every `every_s` on its own loop."""

    def __init__(self, sessions: sessionmaker[Session], counters: Counter[str], every_s: float = FLUSH_EVERY_S) -> None:
        self.sessions = sessions
        self.counters = counters
        self._notes: dict[str, Note] = {}
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one flush at a time: the loop's and the one at stop
        self.loop = Loop("presence-book", self.flush, interval_s=every_s)

    def heard(self, gateway_id: str, now: datetime, boot_id: str | None = None) -> None:
        """The gateway itself spoke (a batch, a heartbeat): seen now, and so connected."""
        self.note(gateway_id, Note(now, "online", now, storable(boot_id, 64) if boot_id else None))

    def state(self, gateway_id: str, state: str, now: datetime, boot_id: str | None = None) -> None:
        """A state message: its state from now; unless it is a last will, also a sign of life."""
        seen = None if state == "offline" else now  # a last will is the broker speaking, not the gateway
        self.note(gateway_id, Note(seen, storable(state, 16), now, storable(boot_id, 64) if boot_id else None))

    def note(self, gateway_id: str, note: Note) -> None:
        """Add a note (in arrival order: later notes win)."""
        with self._lock:
            before = self._notes.get(gateway_id)
            self._notes[gateway_id] = before.then(note) if before else note

    def start(self) -> None:
        """Flush every `every_s` until stopped."""
        self.loop.start()

    def stop(self) -> None:
        """Stop the loop and write what is noted (nothing a stopping process heard is lost)."""
        self.loop.stop()
        try:
            self.flush()
        except Exception:  # a stop must finish; the homes' next heartbeats heal the table (counted in flush)
            log.exception("presence of %d gateway(s) not written at stop", len(self._notes))

    def flush(self) -> int:
        """Write every note in one bulk UPDATE (and add unknown gateways); returns how many were written.

        On failure the notes are put back under any newer ones, for the next flush, and the error raised.
        """
        with self._flushing:
            with self._lock:
                taken, self._notes = self._notes, {}
            if not taken:
                return 0
            try:
                with self.sessions() as s, s.begin():
                    self._write(s, taken)
            except Exception:
                self.counters["presence_flush_errors"] += 1
                with self._lock:
                    for gw_id, note in taken.items():
                        newer = self._notes.get(gw_id)
                        self._notes[gw_id] = note.then(newer) if newer else note
                raise
            self.counters["presence_flushes"] += 1
            self.counters["presence_notes"] += len(taken)
            return len(taken)

    def _write(self, s: Session, taken: dict[str, Note]) -> None:
        """The UPDATE; when it matched fewer rows than notes, the gateways nobody registered are added."""
        rows = [
            {
                "b_id": gw_id,
                "b_seen": n.seen_at,
                "b_state": n.state,
                "b_state_at": n.state_at,
                "b_boot": n.boot_id,
                "b_turned": n.turned,
            }
            for gw_id, n in sorted(taken.items())  # one lock order for every writer of these rows
        ]
        matched = s.execute(_UPDATE, rows).rowcount  # type: ignore[attr-defined]  # CursorResult of a DML
        bind = s.get_bind()
        if bind.dialect.supports_sane_multi_rowcount and matched == len(rows):
            return
        known = set(s.scalars(select(Gateway.id).where(Gateway.id.in_(taken))))
        for gw_id in sorted(taken.keys() - known):
            n = taken[gw_id]
            # Visible to staff as a gateway without a home, as when its first batch adds it (ingest_store).
            log.warning("presence from unregistered gateway %s: added, shown to staff", for_log(gw_id))
            self.counters["unregistered_gateways"] += 1
            s.add(
                Gateway(
                    id=gw_id, state=n.state or "unknown", state_at=n.state_at, last_seen=n.seen_at, boot_id=n.boot_id
                )
            )
