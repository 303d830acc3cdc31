"""The pull loops of the partitions this process holds, and what they fetched until Ingest settles it.

Each held partition has two pull loops, one per stream (server/stream_setup.py `SOURCES`): its alarm
batches (ANXIN_ALARM) and its readings and presence (ANXIN_UP). Each fetches eagerly (its source's
`fetch_batch` a request) into Ingest's alarm-first queue, each message with its JetStream handle as
a token; it stops asking once its source's `max_ack_pending` of its messages are unsettled
(JetStream would deliver no more anyway). The alarm loop never waits for the readings' window, and
in the queue an alarm goes before every reading. `settle` runs on the asyncio loop: acks after
the drain's commit, naks with a delay when the database did not take it. A message waiting in the
queue longer than a third of the ack wait is marked "in progress" every such while, so a backlog
is not delivered a second time while it is still queued; if it is anyway (a blip), the second
delivery replaces the first in place instead of being queued twice. Used by
server/stream_consumer.py, which decides what is held.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any, cast

from server.ingest import Ingest
from server.stream_setup import ACK_WAIT_S, SOURCES, UP, Source, consumer_name, mqtt_topic

log = logging.getLogger(__name__)

NAK_DELAY_S = 2.0  # a drain the database refused comes back after this (and again, until it is taken)
Key = tuple[int, str]  # (partition, stream)


class PartitionFetch:
    """One pull loop per held partition, feeding `ingest`; counts into `counters` (shared with /metrics)."""

    def __init__(self, ingest: Ingest, counters: Counter[str], monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ingest = ingest
        self.counters = counters
        self.monotonic = monotonic
        # Per partition and stream, by stream sequence: fetched, not yet settled (the latest delivery, when handed).
        self.pending: defaultdict[Key, dict[int, tuple[Any, float]]] = defaultdict(dict)
        self._loops: dict[int, tuple[list[asyncio.Task[None]], asyncio.Event]] = {}
        self._tasks: set[asyncio.Future[Any]] = set()

    @property
    def held(self) -> frozenset[int]:
        """The partitions being fetched now."""
        return frozenset(self._loops)

    def hold(self, js: Any, p: int) -> None:
        """Start fetching a partition (its lease was just taken)."""
        stop = asyncio.Event()
        self._loops[p] = ([asyncio.create_task(self._fetch_loop(js, p, src, stop)) for src in SOURCES], stop)
        log.info("partition %d taken", p)

    def drop(self, p: int) -> None:
        """Stop fetching a partition now (what it fetched is still settled when Ingest is done)."""
        held = self._loops.pop(p, None)
        if held is not None:
            held[1].set()

    async def quiesce(self, p: int, timeout_s: float) -> None:
        """Stop fetching, then wait (up to `timeout_s`) until Ingest settled everything fetched from `p`."""
        held = self._loops.get(p)
        if held is not None:
            held[1].set()
            await asyncio.gather(*held[0])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.unsettled(p) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        self.drop(p)

    def unsettled(self, p: int) -> int:
        """How many messages of partition `p` (both streams) were fetched and are not settled yet."""
        return sum(len(self.pending[(p, src.stream)]) for src in SOURCES)

    def settle(self, tokens: list[object], ok: bool) -> None:
        """On the loop: ack these messages (their drain was committed) or nak them with a delay."""
        msgs = []
        for token in tokens:
            key, seq = cast(tuple[Key, int], token)  # what _hand queued
            entry = self.pending[key].pop(seq, None)
            if entry is not None:
                msgs.append(entry[0])
        self.counters["acked" if ok else "naked"] += len(msgs)
        self.spawn(self._reply(msgs, ok))

    def keep_waiting(self) -> None:
        """Tell JetStream that messages queued for a while are still being worked on (resets their ack wait)."""
        cutoff = self.monotonic() - ACK_WAIT_S / 3
        for waiting in self.pending.values():
            for msg, handed_at in waiting.values():
                if handed_at < cutoff:
                    self.spawn(msg.in_progress())

    def spawn(self, coro: Any) -> None:
        """Run a coroutine in the background, keeping a reference until it is done."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fetch_loop(self, js: Any, p: int, source: Source, stop: asyncio.Event) -> None:
        import nats.errors

        sub = await js.pull_subscribe_bind(consumer_name(p, source), source.stream)
        pending = self.pending[(p, source.stream)]
        try:
            while not stop.is_set():
                if len(pending) >= source.max_ack_pending:  # JetStream would give nothing more anyway
                    await asyncio.sleep(0.02)
                    continue
                try:
                    msgs = await sub.fetch(source.fetch_batch, timeout=1.0)
                except (TimeoutError, nats.errors.TimeoutError):  # nothing new within the second
                    continue
                except Exception as exc:  # a connection blip: try again shortly
                    log.warning("fetching partition %d of %s: %r", p, source.stream, exc)
                    await asyncio.sleep(0.5)
                    continue
                for msg in msgs:
                    self._hand(p, msg, source)
        finally:
            with contextlib.suppress(Exception):  # the connection is gone already
                await sub.unsubscribe()

    def _hand(self, p: int, msg: Any, source: Source = UP) -> None:
        parsed = mqtt_topic(msg.subject, source)
        if parsed is None or parsed[0] != p:
            self.counters["invalid"] += 1
            log.warning("not an uplink subject, dropped from the stream: %r", msg.subject[:200])
            self.spawn(msg.term())
            return
        if msg.metadata.num_delivered > 1:
            self.counters["redelivered"] += 1
        seq, key = msg.metadata.sequence.stream, (p, source.stream)
        pending = self.pending[key]
        queued = pending.get(seq)
        if queued is not None:  # delivered again while still queued: answer the latest delivery, queue it once
            pending[seq] = (msg, queued[1])
            return
        pending[seq] = (msg, self.monotonic())
        self.ingest.on_message(parsed[1], msg.data, (key, seq))

    async def _reply(self, msgs: list[Any], ok: bool) -> None:
        results = await asyncio.gather(
            *(m.ack() if ok else m.nak(delay=NAK_DELAY_S) for m in msgs), return_exceptions=True
        )
        failed = sum(1 for r in results if isinstance(r, Exception))
        if failed:  # JetStream delivers them again after the ack wait; the store keeps each once
            self.counters["ack_errors"] += failed
