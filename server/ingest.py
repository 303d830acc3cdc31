"""Ingest from MQTT: an alarm-first queue feeding one thread that commits drains and acknowledges after commit.

The parts, in the order a message meets them: `UplinkQueue` (server/ingest_queue.py) → the ingest loop
here (it waits on `AlarmFirst` before a drain of readings) → `IngestPipeline` (server/ingest_pipeline.py:
screen → commit → acks → desk), which commits through `PoisonIsolation` and `EventStore`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from anxin.loop import Loop
from server.alarm_first import AlarmFirst
from server.ingest_letters import DeadLetters
from server.ingest_pipeline import IngestPipeline, Publish
from server.ingest_poison import PoisonIsolation
from server.ingest_queue import OTHER, UplinkQueue
from server.ingest_store import EventStore, IngestResult

log = logging.getLogger(__name__)

Settle = Callable[[list[object], bool], None]


def drain_bytes(database_url: str) -> int:
    """How much one drain may take in (payload bytes) on this database.

    An alarm that arrives while a drain of readings is being committed waits for that commit.
    SQLite: 256 KiB (~1,800 readings, ~0.1 s under full load) bounds that wait. PostgreSQL: 1 MiB
    (~7,000 readings): the per-drain cost (~11 ms) makes smaller drains too slow for the ingest
    target there. Measured in docs/performance.md.
    """
    return 256 * 1024 if database_url.startswith("sqlite") else 1024 * 1024


class Ingest:
    """Consumes uplink messages on one loop; drains what is queued into one transaction, acks after commit."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        publish: Publish,
        on_new_alarm: Callable[[int], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_drain: int = 200,
        max_drain_bytes: int = 1024 * 1024,
        on_readings: Callable[[list[dict[str, Any]]], None] = lambda _r: None,
        alarm_first: AlarmFirst | None = None,
        on_settled: Settle | None = None,
    ) -> None:
        self.sessions = sessions
        self.counters: Counter[str] = Counter()
        letters = DeadLetters(sessions, self.counters)
        commit = PoisonIsolation(EventStore(sessions, letters, clock, self.counters), letters, self.counters)
        self.pipeline = IngestPipeline(
            sessions, commit, letters, publish, on_new_alarm, on_readings, clock, self.counters
        )
        self.queue = UplinkQueue(max_drain, max_drain_bytes)
        self.alarm_first = alarm_first  # None: nobody to wait for (no desk in this process)
        # The source's tokens of a drain, and whether it is settled (committed, dead-lettered, or a
        # duplicate) — False: the database did not take it, the source must deliver it again.
        self.on_settled = on_settled
        self.loop = Loop("ingest", self._step, wake=self.queue.close, join_s=30)

    def on_message(self, topic: str, payload: bytes, token: object = None) -> None:
        """From the MQTT edge or the stream: only enqueue (alarms first); `token` comes back to `on_settled`."""
        self.queue.put(topic, payload, token)

    def handle(self, topic: str, payload: bytes) -> IngestResult | None:
        """One MQTT message from a gateway, on the caller's thread."""
        results = self.handle_many([(topic, payload)])
        return results[0] if results else None

    def handle_many(self, items: list[tuple[str, bytes]]) -> list[IngestResult]:
        """Several MQTT messages committed together, on the caller's thread (see IngestPipeline)."""
        return self.pipeline.handle_many(items)

    def start(self) -> None:
        """Run the ingest loop, and the presence book's flushes."""
        self.pipeline.presence.start()
        self.loop.start()

    def stop(self) -> None:
        """Commit what is queued, then stop (the loop drains up to the stop mark, waited for up to 30 s)."""
        self.loop.stop()
        if not self.loop.is_alive():
            # What arrived between the loop's last drain and the stop flag (or everything, never started).
            while self._drain(block=False):
                pass
        self.pipeline.presence.stop()  # what the drains noted reaches the table before we go

    def _step(self) -> None:
        """The loop's step: one drain; once stopping, every drain up to the stop mark."""
        while self._drain(block=True) and self.loop.stopping:
            pass

    def _drain(self, block: bool) -> bool:
        """Commit the next drain; False when the stop mark was reached or (not blocking) nothing is queued."""
        first = self.queue.first(block)
        while first is not None and first.priority == OTHER and self.alarm_first and self.alarm_first.hold_readings():
            # We waited for the desk to notify a new alarm: another alarm may have come meanwhile.
            self.queue.put_back(first)
            first = self.queue.first(block)
        if first is None:
            return False
        drain = self.queue.drain(first)
        if drain.messages:
            # A database that is down fails the drain, or (several batches) leaves some unacknowledged
            # and counts an internal error (server/ingest_poison.py): either way nothing is settled.
            errors_before = self.counters["internal_errors"]
            try:
                self.pipeline.handle_many(drain.messages)
            except Exception:  # supervisor: the messages stay unacknowledged, so the gateways resend them
                self.counters["internal_errors"] += 1
                log.exception("ingest failed on %d message(s)", len(drain.messages))
            if drain.tokens and self.on_settled is not None:
                self.on_settled(drain.tokens, self.counters["internal_errors"] == errors_before)
        return not drain.last
