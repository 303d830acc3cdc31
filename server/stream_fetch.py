"""The pull loops of the partitions this process holds, and what they fetched until Ingest settles it.

Each held partition fetches eagerly (FETCH_BATCH a request) into Ingest's alarm-first queue, each
message with its JetStream handle as a token; it stops asking once MAX_ACK_PENDING of its messages
are unsettled (JetStream would deliver no more anyway). `settle` runs on the asyncio loop: acks after
the drain's commit, naks with a delay when the database did not take it. Used by
server/stream_consumer.py, which decides what is held.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from typing import Any, cast

from server.ingest import Ingest
from server.stream_setup import MAX_ACK_PENDING, STREAM, consumer_name, mqtt_topic

log = logging.getLogger(__name__)

NAK_DELAY_S = 2.0  # a drain the database refused comes back after this (and again, until it is taken)
FETCH_BATCH = 256


class PartitionFetch:
    """One pull loop per held partition, feeding `ingest`; counts into `counters` (shared with /metrics)."""

    def __init__(self, ingest: Ingest, counters: Counter[str]) -> None:
        self.ingest = ingest
        self.counters = counters
        self.inflight: Counter[int] = Counter()  # per partition: fetched, not yet settled
        self._loops: dict[int, tuple[asyncio.Task[None], asyncio.Event]] = {}
        self._tasks: set[asyncio.Future[Any]] = set()

    @property
    def held(self) -> frozenset[int]:
        """The partitions being fetched now."""
        return frozenset(self._loops)

    def hold(self, js: Any, p: int) -> None:
        """Start fetching a partition (its lease was just taken)."""
        stop = asyncio.Event()
        self._loops[p] = (asyncio.create_task(self._fetch_loop(js, p, stop)), stop)
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
            await held[0]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.inflight[p] > 0 and loop.time() < deadline:
            await asyncio.sleep(0.05)
        self.drop(p)

    def settle(self, tokens: list[object], ok: bool) -> None:
        """On the loop: ack these messages (their drain was committed) or nak them with a delay."""
        msgs = []
        for token in tokens:
            p, msg = cast(tuple[int, Any], token)  # what _hand queued
            self.inflight[p] -= 1
            msgs.append(msg)
        self.counters["acked" if ok else "naked"] += len(msgs)
        self.spawn(self._reply(msgs, ok))

    def spawn(self, coro: Any) -> None:
        """Run a coroutine in the background, keeping a reference until it is done."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fetch_loop(self, js: Any, p: int, stop: asyncio.Event) -> None:
        import nats.errors

        sub = await js.pull_subscribe_bind(consumer_name(p), STREAM)
        try:
            while not stop.is_set():
                if self.inflight[p] >= MAX_ACK_PENDING:  # JetStream would give nothing more anyway
                    await asyncio.sleep(0.02)
                    continue
                try:
                    msgs = await sub.fetch(FETCH_BATCH, timeout=1.0)
                except (TimeoutError, nats.errors.TimeoutError):  # nothing new within the second
                    continue
                except Exception as exc:  # a connection blip: try again shortly
                    log.warning("fetching partition %d: %r", p, exc)
                    await asyncio.sleep(0.5)
                    continue
                for msg in msgs:
                    self._hand(p, msg)
        finally:
            with contextlib.suppress(Exception):  # the connection is gone already
                await sub.unsubscribe()

    def _hand(self, p: int, msg: Any) -> None:
        parsed = mqtt_topic(msg.subject)
        if parsed is None or parsed[0] != p:
            self.counters["invalid"] += 1
            log.warning("not an uplink subject, dropped from the stream: %r", msg.subject[:200])
            self.spawn(msg.term())
            return
        if msg.metadata.num_delivered > 1:
            self.counters["redelivered"] += 1
        self.inflight[p] += 1
        self.ingest.on_message(parsed[1], msg.data, (p, msg))

    async def _reply(self, msgs: list[Any], ok: bool) -> None:
        results = await asyncio.gather(
            *(m.ack() if ok else m.nak(delay=NAK_DELAY_S) for m in msgs), return_exceptions=True
        )
        failed = sum(1 for r in results if isinstance(r, Exception))
        if failed:  # JetStream delivers them again after the ack wait; the store keeps each once
            self.counters["ack_errors"] += failed
