"""Uplink from NATS JetStream: pull the partitions this process leases, feed Ingest, ack after the commit.

One asyncio loop on its own supervised thread (anxin/loop.py) holds the NATS connection. Every
second it refreshes its leases and takes or gives up partitions (server/stream_leases.py decides,
server/stream_lease_board.py writes); each held partition has two pull loops fetching eagerly into
Ingest's alarm-first queue (server/ingest_queue.py): one on its alarm consumer (stream ANXIN_ALARM),
one on its readings' (ANXIN_UP), so an alarm published on the gateway's alarm topic never waits in
JetStream behind readings (server/stream_fetch.py). When a
drain is committed (or dead-lettered) Ingest calls `settled` on its thread; the acks go back to this
loop with `call_soon_threadsafe`. A drain the database did not take is nak'ed with a delay, and
JetStream delivers it again (the store deduplicates by gateway and sequence).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from anxin.loop import Loop
from server.ingest import Ingest
from server.stream_fetch import PartitionFetch
from server.stream_lease_board import LeaseBoard
from server.stream_leases import Health, View, expired, health, plan
from server.stream_setup import (
    ACK_WAIT_S,
    ALARM,
    BUCKET,
    LEASE_TTL_S,
    SOURCES,
    STREAM,
    UP,
    consumer_name,
    ensure_stream,
    partition_subject,
)

log = logging.getLogger(__name__)


class StreamIngest:
    """Consumes ANXIN_UP's leased partitions into `ingest`; `me` is this process's id (unique per run)."""

    def __init__(
        self,
        ingest: Ingest,
        urls: list[str],
        user: str | None,
        password: str | None,
        me: str,
        partitions: int = 16,
        replicas: int = 3,
        lease_interval_s: float = 1.0,
        lag_interval_s: float = 3.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ingest = ingest
        self.urls, self.user, self.password = urls, user, password
        self.me = me
        self.partitions, self.replicas = partitions, replicas
        self.lease_interval_s, self.lag_interval_s = lease_interval_s, lag_interval_s
        self.monotonic = monotonic
        self.counters: Counter[str] = Counter()  # acked, naked, redelivered, invalid, ack_errors, leases_lost
        self.owned: frozenset[int] = frozenset()  # read by /metrics and health from other threads
        self.lag: dict[int, int] = {}  # per partition: not yet delivered + delivered and not acked
        self.alarm_lag: dict[int, int] = {}  # the same, of the partition's alarm consumer
        # Messages in partition number `partitions` (the first past ours): the cluster's mapping has more
        # partitions than this setting, and those gateways' messages are read by nobody.
        self.unread = 0
        self.last_error = ""  # why the last connection or set-up failed (shown by health)
        self.view: View | None = None
        self.loop = Loop("stream-ingest", self._run, wake=self._wake, join_s=ACK_WAIT_S + 10, after_error_s=2.0)
        self._nc: Any = None
        self._aloop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = monotonic()
        self.fetch = PartitionFetch(ingest, self.counters)
        self._releasing: set[int] = set()
        self._refreshed: dict[int, float] = {}
        self._was_healthy = True
        self._leaving = False  # stopping: leases are only refreshed until released

    # --- the other threads' side -------------------------------------------------------------------

    def start(self) -> None:
        """Connect and consume on the stream's own thread."""
        self._started = self.monotonic()
        self.loop.start()

    def stop(self) -> None:
        """Stop fetching, wait for Ingest to settle what was fetched, give the leases up (call before Ingest.stop)."""
        self.loop.stop()

    def settled(self, tokens: list[object], ok: bool) -> None:
        """From the Ingest thread: these messages' drain was committed (`ok`) or not."""
        loop = self._aloop
        try:
            if loop is not None:
                loop.call_soon_threadsafe(self.fetch.settle, tokens, ok)
                return
        except RuntimeError:  # the loop is closed: JetStream delivers them again after the ack wait
            pass
        self.counters["ack_errors"] += len(tokens)

    @property
    def connected(self) -> bool:
        """Whether the NATS connection is up now."""
        return bool(self._nc is not None and self._nc.is_connected)

    def health(self) -> Health:
        """Sound, or why not (for /api/v1/health, /metrics and the console)."""
        since = self.monotonic() - self._started
        return health(self.connected, len(self.owned), self.view, self.partitions, since, self.unread, self.last_error)

    # --- the asyncio loop ------------------------------------------------------------------------

    def _wake(self) -> None:
        loop, stop = self._aloop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)

    def _run(self) -> None:
        """The Loop's step: one connection's life; a failure is retried by the Loop after a pause."""
        if self.loop.stopping:
            return
        try:
            asyncio.run(self._main())
        except Exception as exc:  # unreachable or refused: say so where a person looks, then try again
            self._was_healthy = False
            self.last_error = f"{type(exc).__name__}: {exc}"[:500]
            log.error("STREAM INTAKE DEAD: NATS %s: %s: %s", ", ".join(self.urls), type(exc).__name__, exc)
            self.loop.wait(2.0)

    async def _main(self) -> None:
        import nats

        self._aloop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        if self.loop.stopping:
            return
        self._nc = await nats.connect(
            servers=self.urls,
            user=self.user,
            password=self.password,
            name=f"anxin-ingest-{self.me}",
            connect_timeout=3,
            reconnect_time_wait=1,
            max_reconnect_attempts=-1,
            ping_interval=5,
            max_outstanding_pings=2,
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnect,
        )
        try:
            js = self._nc.jetstream(timeout=5)
            await ensure_stream(js, self.partitions, self.replicas, len(self._nc.servers))
            # Lease writes time out sooner than the lease lasts, so a slow one is retried within it.
            leases = self._nc.jetstream(timeout=LEASE_TTL_S / 3)
            board = LeaseBoard(await leases.key_value(BUCKET), self.me, self.partitions, leases, BUCKET)
            self.last_error = ""
            log.info("consuming stream %s (%d partitions) as %s", STREAM, self.partitions, self.me)
            background = [
                asyncio.create_task(self._lease_loop(js, board)),
                asyncio.create_task(self._lag_loop(js)),
                asyncio.create_task(self._keep_waiting_loop()),
            ]
            await self._stop.wait()
            # The leases are kept (refreshed, nothing taken) and queued messages kept waiting until what
            # was fetched is settled: another process must not read these partitions meanwhile.
            self._leaving = True
            background[1].cancel()
            await self._release_all(board, stop_refreshing=background)
        finally:
            try:
                await self._nc.drain()  # the acks still queued go out first
            except Exception as exc:  # already closed: JetStream delivers the unacked again after the ack wait
                log.warning("closing the NATS connection: %s", exc)
            for p in self.fetch.held:  # a failed connection's loops end with its asyncio loop
                self._drop(p)
            self.owned = frozenset()
            self._aloop = None

    async def _on_error(self, exc: Exception) -> None:
        log.warning("NATS: %s", exc)

    async def _on_disconnect(self) -> None:
        log.error("NATS connection lost; reconnecting (leases lapse after %.0f s)", LEASE_TTL_S)

    async def _lease_loop(self, js: Any, board: LeaseBoard) -> None:
        while True:
            try:
                await self._lease_round(js, board)
            except Exception as exc:  # NATS unreachable: the leases lapse below, others take them
                log.warning("lease round failed: %s", exc)
            for p in expired(self._refreshed, self.monotonic(), LEASE_TTL_S):
                log.error("lease of partition %d not refreshed in time: stopping it", p)
                self.counters["leases_lost"] += 1
                self._drop(p)
            self._report_health()
            await asyncio.sleep(self.lease_interval_s)

    async def _lease_round(self, js: Any, board: LeaseBoard) -> None:
        """Refresh every lease at once, read the bucket, then give up and take what the plan says.

        A lease counts from when its write was sent (the bucket's clock starts no earlier), so a slow
        answer never stretches it; the writes go out together, so a round takes one round trip.
        """
        held, sent = sorted(self.fetch.held), self.monotonic()
        refreshed = await asyncio.gather(*(board.refresh(p) for p in held), return_exceptions=True)
        for p, ok in zip(held, refreshed, strict=True):
            if ok is True:
                self._refreshed[p] = max(self._refreshed.get(p, sent), sent)
            elif ok is False:
                log.error("partition %d was taken by another process: stopping it", p)
                self.counters["leases_lost"] += 1
                self._drop(p)
            # an exception (NATS slow or away): tried again next round, dropped once it runs out
        if self._leaving:  # stopping: keep what is held until it is settled and released, take nothing
            return
        self.view = await board.read()
        todo = plan(self.me, self.partitions, self.view, self.fetch.held)
        for p in todo.release:
            if p not in self._releasing:
                self._releasing.add(p)
                self.fetch.spawn(self._release(board, p))
        sent = self.monotonic()
        taken = await asyncio.gather(*(board.take(p) for p in todo.take), return_exceptions=True)
        for p, ok in zip(todo.take, taken, strict=True):
            if ok is True:
                self._refreshed[p] = sent
                self.fetch.hold(js, p)
        self.owned = self.fetch.held

    def _drop(self, p: int) -> None:
        """Stop fetching a partition now; its lease is not ours any more."""
        self.fetch.drop(p)
        self._refreshed.pop(p, None)
        self.owned = self.fetch.held

    async def _release(self, board: LeaseBoard, p: int) -> None:
        """Stop fetching, wait until Ingest settled what was fetched, then free the lease."""
        try:
            await self.fetch.quiesce(p, ACK_WAIT_S)
            self._drop(p)
            await board.release(p)
            log.info("partition %d released", p)
        finally:
            self._releasing.discard(p)

    async def _release_all(self, board: LeaseBoard, stop_refreshing: list[asyncio.Task[None]]) -> None:
        await asyncio.gather(*(self._release(board, p) for p in self.fetch.held), return_exceptions=True)
        for task in stop_refreshing:
            task.cancel()
        try:
            await board.leave()
        except Exception as exc:  # the others see our member key expire instead
            log.warning("could not leave the lease bucket: %s", exc)

    async def _keep_waiting_loop(self) -> None:
        while True:
            await asyncio.sleep(ACK_WAIT_S / 6)
            self.fetch.keep_waiting()

    async def _lag_loop(self, js: Any) -> None:
        while True:
            try:
                for p in range(self.partitions):
                    for source, lags in ((UP, self.lag), (ALARM, self.alarm_lag)):
                        info = await js.consumer_info(source.stream, consumer_name(p, source))
                        lags[p] = int(info.num_pending or 0) + int(info.num_ack_pending or 0)
                unread = 0
                for source in SOURCES:
                    beyond = await js.stream_info(
                        source.stream, subjects_filter=partition_subject(self.partitions, source)
                    )
                    unread += sum((beyond.state.subjects or {}).values())
                if unread and not self.unread:
                    log.error(
                        "STREAM INTAKE INCOMPLETE: %d message(s) in partition %d, which no consumer reads: "
                        "nats_partitions (%d) is less than the cluster's mapping",
                        unread,
                        self.partitions,
                        self.partitions,
                    )
                self.unread = unread
            except Exception:  # NATS unreachable: health says so; keep the last figures
                pass
            await asyncio.sleep(self.lag_interval_s)

    def _report_health(self) -> None:
        now = self.health()
        if not now.ok and self._was_healthy:
            log.error("STREAM INTAKE DEAD: %s", now.problem)
        elif now.ok and not self._was_healthy:
            log.warning("stream intake alive again: %d partition(s) held", len(self.owned))
        self._was_healthy = now.ok
