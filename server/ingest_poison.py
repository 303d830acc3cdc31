"""Poison isolation for ingest: one message the database cannot take must never hold back another home's alarm.

A drain is committed in one transaction. When that fails, each message is retried alone; a message that
fails alone is retried event by event; an event that fails alone is poison: dead-lettered and rejected,
so its gateway forgets it. A database that is down or busy is nobody's poison: then nothing is
dead-lettered and the messages stay unacknowledged (the gateways resend them).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import replace
from typing import Any

from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from anxin import protocol
from server.home_text import for_log
from server.ingest_letters import DeadLetters
from server.ingest_store import EventStore, IngestResult

log = logging.getLogger(__name__)


class PoisonIsolation:
    """Commits a drain with `store`, isolating what spoils the shared transaction."""

    def __init__(self, store: EventStore, letters: DeadLetters, counters: Counter[str]) -> None:
        self.store = store
        self.letters = letters
        self.counters = counters

    def commit(self, batches: list[protocol.UplinkBatch]) -> list[IngestResult]:
        """One result per batch; raises only when the database is unavailable for a single message."""
        try:
            return self.store.commit_many(batches)
        except Exception as exc:  # any class: one message must never hold back another home's alarm
            if is_transient(exc) and len(batches) == 1:
                raise
            # One message (or a race with another server process) spoiled the shared transaction:
            # retry each on its own so the others are not held back.
            log.warning("batched commit of %d messages failed (%s); committing one by one", len(batches), exc)
            return [self._alone(b) for b in batches]

    def _alone(self, batch: protocol.UplinkBatch) -> IngestResult:
        """Commit one message by itself; an event that cannot be committed even alone is dead-lettered."""
        try:
            return self.store.commit_many([batch])[0]
        except Exception as exc:  # any class: poison is whatever fails alone
            if is_transient(exc):
                self.counters["internal_errors"] += 1
                log.error("could not commit batch from %s; it stays unacknowledged: %s", for_log(batch.gateway_id), exc)
                return IngestResult()
            if len(batch.events) > 1:
                log.warning(
                    "batch from %s failed (%r); committing its events one by one", for_log(batch.gateway_id), exc
                )
                return merged(IngestResult(), [self._alone(replace(batch, events=(ev,))) for ev in batch.events])
            self.counters["poison"] += 1
            result = IngestResult()
            for ev in batch.events:
                self.letters.keep(
                    protocol.up_topic(batch.gateway_id),
                    batch.gateway_id,
                    ev.seq,
                    f"cannot be committed: {type(exc).__name__}: {str(exc)[:200]}",
                    body_text(ev.body).encode(),
                )
                result.rejected.append(ev.seq)
            return result


def is_transient(exc: BaseException) -> bool:
    """A database that is down or busy (retry later), as opposed to a message it cannot take.

    Busy includes a connection pool with nothing free (`PoolTimeout`): an alarm that waited for a
    connection is not poison, and dead-lettering it would make the gateway forget it.
    """
    return isinstance(exc, (OperationalError, PoolTimeout, DisconnectionError)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def body_text(body: dict[str, Any]) -> str:
    """An event body as text for a dead letter, whatever it holds (nesting no encoder takes included)."""
    try:
        return json.dumps(body, default=str, ensure_ascii=False)
    except (RecursionError, ValueError, TypeError) as exc:
        return f"<event body that cannot be written out: {type(exc).__name__}>"


def merged(out: IngestResult, parts: list[IngestResult]) -> IngestResult:
    """`out` (empty) made the one result of a message committed event by event."""
    for p in parts:
        out.acked += p.acked
        out.rejected += p.rejected
        out.new_alarms += p.new_alarms
        out.duplicates += p.duplicates
        out.readings += p.readings
        out.upto = max(out.upto, p.upto)
    return out
