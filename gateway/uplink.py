"""Sends the outbox to the server and forgets entries only when the server says they are committed."""

from __future__ import annotations

import heapq
import logging
import random
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from anxin import protocol
from anxin.loop import Loop
from anxin.mqtt import MqttError
from gateway.config import UplinkConfig
from gateway.outbox import Outbox
from gateway.outbox_db import Entry
from gateway.uplink_window import Window

log = logging.getLogger(__name__)

Publish = Callable[[str, bytes, int], object]
CommandHandler = Callable[[protocol.Command], None]
CLOCK_SANE_AFTER = 1_577_836_800.0  # 2020-01-01: a Pi without RTC before NTP reports 1970
# Half the server's cap: room for the envelope and for a body that grows when the server re-encodes it.
BATCH_BYTES = protocol.MAX_UPLINK_BYTES // 2
REMEMBERED_BATCHES = 512  # batches an ack may answer: well beyond the in-flight window (2000 events)
NO_ALARMS = {0: 2**62}  # a cursor above every alarm: alarms are taken from Outbox.alarms(), never as fresh entries


@dataclass(slots=True)
class UplinkStats:
    """What the uplink has done, for health reports and tests."""

    batches_sent: int = 0
    batches_split: int = 0  # batches halved to stay under the server's size cap
    events_sent: int = 0
    resent: int = 0
    acked: int = 0
    bad_acks: int = 0
    untrusted_acks: int = 0  # acks naming no batch sent on this link: forged, or from a past link
    unknown_seqs: int = 0  # sequence numbers in an ack that were not in the batch it answers: ignored
    publish_errors: int = 0
    stuck_restarts: int = 0


@dataclass
class Uplink:
    """A window of in-flight events, resent with backoff and jitter until acknowledged."""

    gateway_id: str
    boot_id: str
    outbox: Outbox
    publish: Publish
    config: UplinkConfig
    on_command: CommandHandler
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    on_stuck: Callable[[], None] | None = None
    stats: UplinkStats = field(default_factory=UplinkStats)
    # What was published on this link and not acknowledged, and when it is due again (gateway/uplink_window.py).
    _window: Window = field(init=False)
    _generation: int = 0  # bumped whenever the window is forgotten (reconnect, resend_now)
    _alarm_resends: int = 0  # alarms resent past their deadline on this link: every other one goes on /up
    # What an ack may clear: only what was published on the current link, in a batch it names.
    _highest_sent: int = 0
    _batches: OrderedDict[str, frozenset[int]] = field(default_factory=OrderedDict)
    _wake: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _connected: bool = False
    _last_ack: float = 0.0
    _waiting_since: float = 0.0
    _alarm_sent_at: float = 0.0  # when an alarm first went out on this link (0: none waiting since)
    _delay: float = 0.0  # how long the next step waits for a wake-up before looking again
    _loop: Loop = field(init=False)

    def __post_init__(self) -> None:
        self._loop = Loop("uplink", self._step, wake=self._wake.set, monotonic=self.monotonic)
        self._window = Window(self._backoff)

    @property
    def alive_at(self) -> float:
        """When the sender last began a step (monotonic): the watchdog restarts the gateway when stale."""
        return self._loop.alive_at

    def start(self) -> None:
        """Run the sender on its own thread."""
        self._loop.start()

    def stop(self) -> None:
        """Stop the sender thread."""
        self._loop.stop()

    def in_flight(self) -> frozenset[int]:
        """What was published on this link and not yet acknowledged (the outbox's disk cap passes over it)."""
        with self._lock:
            return frozenset(self._window.inflight)

    def wake(self) -> None:
        """Something new is in the outbox."""
        self._wake.set()

    def on_connection(self, up: bool) -> None:
        """Link state from the MQTT edge; in-flight entries are resent after a reconnect."""
        with self._lock:
            self._connected = up
            self._forget_window()
            self._highest_sent = 0
            self._alarm_resends = 0
            self._alarm_sent_at = 0.0
            self._batches.clear()
        self._wake.set()

    def _forget_window(self) -> None:
        """Everything unacknowledged counts as never sent (the caller holds the lock)."""
        self._window.clear()
        self._generation += 1

    def on_message(self, topic: str, payload: bytes) -> None:
        """Acknowledgements and commands from the server."""
        if topic == protocol.ack_topic(self.gateway_id):
            try:
                ack = protocol.decode_ack(payload)
            except protocol.ProtocolError as exc:
                self.stats.bad_acks += 1
                log.warning("ignoring malformed ack: %s", exc)
                return
            self._acknowledge(self._trusted(ack))
        elif topic == protocol.server_state_topic():
            if b'"online"' in payload:
                self.resend_now("the server is back")
        elif topic == protocol.cmd_topic(self.gateway_id):
            try:
                command = protocol.decode_command(payload)
            except protocol.ProtocolError as exc:
                log.warning("ignoring malformed command: %s", exc)
                return
            self.on_command(command)

    def resend_now(self, why: str) -> None:
        """Forget backoff: everything unacknowledged goes again now, alarms first."""
        with self._lock:
            n = len(self._window)
            self._forget_window()
        if n:
            log.info("%s: resending %d unacknowledged events now", why, n)
        self._wake.set()

    def _trusted(self, ack: protocol.Ack) -> list[int]:
        """What an ack may clear: sequence numbers sent on this link, in answer to a batch we sent.

        Anyone who can publish on the ack topic could otherwise make the gateway forget an SOS the
        server never saw (`upto` = 2^31). The broker's ACL keeps others off the topic; this keeps
        an ack that still gets through from clearing more than the server could have committed.
        """
        with self._lock:
            sent = self._batches.get(ack.batch_id)
            if sent is None:
                self.stats.untrusted_acks += 1
                log.warning("ignoring an ack for batch %r, not sent on this link", ack.batch_id[:32])
                return []
            named = list(ack.seqs) + list(ack.rejected)
            known = [s for s in named if s in sent]
            self.stats.unknown_seqs += len(named) - len(known)
            upto = min(ack.upto, self._highest_sent)
        if len(known) < len(named):
            log.warning("ack names %d sequence numbers not in the batch it answers: ignored", len(named) - len(known))
        return known + (self.outbox.seqs_upto(upto) if upto else [])

    def _acknowledge(self, seqs: list[int]) -> None:
        removed = self.outbox.ack(seqs)
        with self._lock:
            self._last_ack = self.monotonic()
            self._window.drop_many(seqs)
        self.stats.acked += removed
        self._wake.set()

    def _backoff(self, attempts: int) -> float:
        base = min(self.config.resend_after_s * (2.0 ** (attempts - 1)), self.config.max_resend_after_s)
        return base * random.uniform(0.8, 1.2)

    def send_once(self) -> float:
        """Send what is due now; returns how long to sleep before looking again."""
        now = self.monotonic()
        with self._lock:
            if not self._connected:
                return 1.0
            self._window.collect_overdue(now)
            room = self._window.room(self.config.max_inflight)
            generation = self._generation
        # Every batch starts with every unacknowledged alarm, due or not: the server can never commit
        # a reading from this gateway before the alarms stored ahead of it (alarms are few; resends
        # are deduplicated by the server).
        alarms = self.outbox.alarms()[: self.config.batch_size]
        self._check_stuck(now, bool(alarms))
        with self._lock:
            due_alarms = [a for a in alarms if self._window.due(a.seq)]
            self._window.drop_overdue_alarms({a.seq for a in alarms})
        rest: list[Entry] = []
        if room > 0 and len(alarms) < self.config.batch_size:
            rest = self._next_entries(min(self.config.batch_size - len(alarms), room))
        if not due_alarms and not rest:
            return self._next_deadline(now) if room > 0 else 0.05
        entries, payload, batch_id = self._fitted(alarms, rest)
        with self._lock:  # before the publish: the ack can come back before publish() returns
            self._batches[batch_id] = frozenset(e.seq for e in entries)
            if len(self._batches) > REMEMBERED_BATCHES:
                self._batches.popitem(last=False)
            self._highest_sent = max(self._highest_sent, max(e.seq for e in entries))
        try:
            self.publish(self._topic(entries, due_alarms), payload, 1)
        except MqttError as exc:
            self.stats.publish_errors += 1
            log.info("uplink publish failed, will retry: %s", exc)
            return 0.5
        with self._lock:
            if generation == self._generation:  # else the window was forgotten meanwhile: all goes again
                # An ack may have overtaken this step (the server answered before we got here): what it
                # cleared is not in flight. (Lock order: uplink, then outbox; the outbox never calls back.)
                waiting = self.outbox.still_waiting(e.seq for e in entries)
                if not self._window:
                    self._waiting_since = now
                if entries[0].lane == "alarm" and not self._alarm_sent_at:
                    self._alarm_sent_at = now
                self.stats.resent += self._window.record_sent([e for e in entries if e.seq in waiting], now)
        self.stats.batches_sent += 1
        self.stats.events_sent += len(entries)
        return 0.0

    def _topic(self, entries: list[Entry], due_alarms: list[Entry]) -> str:
        """An alarm's batch has a topic of its own, read ahead of readings; its resends alternate with /up,
        so a broker whose ACL predates the alarm topic (an upgrade in the wrong order) cannot hold it back."""
        if entries[0].lane != "alarm":
            return protocol.up_topic(self.gateway_id)
        with self._lock:
            if any(self._window.attempts(a.seq) for a in due_alarms):  # past its deadline, unacknowledged
                self._alarm_resends += 1
            on_up = self._alarm_resends % 2 == 1
        return protocol.up_topic(self.gateway_id) if on_up else protocol.alarm_topic(self.gateway_id)

    def _next_entries(self, want: int) -> list[Entry]:
        """Up to `want` readings and events in sending order: overdue ones and those never sent on this link."""
        with self._lock:
            overdue = self._window.overdue_entries(want)
            cursor = {**self._window.cursor, **NO_ALARMS}
        fresh = self.outbox.waiting(want, cursor)
        picked = [s for _, s in heapq.merge(overdue, fresh)][:want]
        found = self.outbox.entries(picked)
        if len(found) < len(picked):  # acknowledged or thinned meanwhile: nothing to resend
            kept = {e.seq for e in found}
            with self._lock:
                self._window.drop_many(s for s in picked if s not in kept)
        return found

    def _fitted(self, alarms: list[Entry], rest: list[Entry]) -> tuple[list[Entry], bytes, str]:
        """The batch (entries, payload, batch id), halved (readings first, alarms last) until it fits well
        under the server's size cap: a batch the server refuses for its size would be refused again at every
        resend, stalling the alarms at its front for good. Bodies go as the outbox stored them (the bytes
        protocol.encode_batch would write: anxin/protocol/batch_text.py)."""
        texts = {e.seq: e.text if e.text is not None else protocol.body_text(e.body) for e in alarms + rest}
        while True:
            entries = alarms + rest
            batch_id, now = secrets.token_hex(8), self.clock()
            payload = protocol.encode_batch_text(
                self.gateway_id,
                self.boot_id,
                [(e.seq, e.lane, e.ts, e.mono, texts[e.seq]) for e in entries],
                sent_at=now,
                clock_synced=now > CLOCK_SANE_AFTER,
                batch_id=batch_id,
            )
            if len(payload) <= BATCH_BYTES or len(entries) == 1:
                return entries, payload, batch_id
            self.stats.batches_split += 1
            if rest:
                rest = rest[: len(rest) // 2]
            else:
                alarms = alarms[: max(1, len(alarms) // 2)]

    def _check_stuck(self, now: float, alarm_waiting: bool) -> None:
        """Connected, events in flight, yet no acknowledgement for too long — much less once an alarm has
        gone out on this link (it is always sent on the link it finds first: the publish may get through
        when only the acks are lost): the link may be stuck."""
        with self._lock:
            if not alarm_waiting:
                self._alarm_sent_at = 0.0  # the next alarm's clock starts at its own first send
            if not self._window:
                return
            silent_since = max(self._last_ack, self._waiting_since)
            alarm_since = max(self._last_ack, self._alarm_sent_at) if self._alarm_sent_at else now
            if now - silent_since < self.config.stuck_after_s and now - alarm_since < self.config.alarm_stuck_after_s:
                return
            # One nudge per period, not one per loop.
            silent_since = min(silent_since, alarm_since)
            self._waiting_since = now
            if self._alarm_sent_at:
                self._alarm_sent_at = now
        self.stats.stuck_restarts += 1
        log.warning(
            "no acknowledgement for %.0f s with %d events in flight: restarting the uplink connection",
            now - silent_since,
            len(self._window),
        )
        if self.on_stuck is not None:
            self.on_stuck()

    def _next_deadline(self, now: float) -> float:
        with self._lock:
            return self._window.next_deadline(now)

    def _step(self) -> None:
        """Wait out the delay the last send asked for (cut short by a wake-up), then send what is due."""
        if self._delay > 0:
            self._wake.wait(min(self._delay, 5.0))  # wake regularly so the watchdog sees us alive
            self._wake.clear()
            if self._loop.stopping:
                return
        self._delay = 1.0  # kept when the send below raises: the loop logs it and we back off a second
        self.outbox.flush_due()
        self._delay = self.send_once()
