"""The gateway's one worker: parse, store, decide, act — in that order, for every message.

Other threads (the home's broker, serial readers, the uplink) only enqueue a typed item (gateway/items.py);
the worker's loop takes one at a time and hands it to its parts: the device intake (gateway/intake.py),
which runs the rules (gateway/rulebook.py), the server's commands (gateway/commands.py), and the outlet
(gateway/outlet.py) through which every alarm, reading and home action leaves.
"""

from __future__ import annotations

import logging
import queue
import time
from collections import Counter
from collections.abc import Callable
from typing import assert_never

from anxin import protocol
from anxin.loop import Loop
from anxin.mqtt import Delivery, ack_all
from gateway.clocks import Clocks
from gateway.commands import Commands
from gateway.config import GatewaySettings
from gateway.devices.router import Router
from gateway.errors import OutboxError
from gateway.falls.monitor import FallMonitor
from gateway.intake import DeviceIntake
from gateway.items import BridgeChange, DeviceMessages, LocalMessage, ServerCommand, Stop, Tick, WorkItem
from gateway.model import DeviceMessage
from gateway.open_alarms import OpenAlarms
from gateway.outbox import Outbox
from gateway.outlet import Outlet, PublishLocal
from gateway.rulebook import RuleBook
from gateway.rules import engine as rules_engine
from gateway.rules.engine import Engine, Input
from gateway.supervision import Supervisor

log = logging.getLogger(__name__)

TICK_S = 1.0  # timer rules, parked alarms and supervision run at least this often, even under a steady stream
# Group commit of the home broker's readings: the worker commits what it stored after GROUP_MAX local
# messages, or GROUP_S after the group's first one, whichever comes first, and only then sends their
# PUBACKs (the home broker's in-flight window is 100: deploy/mosquitto-pi.conf). An empty queue does not
# close the group before GROUP_S: a worker faster than its input would otherwise commit nearly every
# message alone, and a commit costs as much as handling a dozen readings (issue 24, docs/performance.md).
GROUP_MAX = 50
GROUP_S = 0.02


class Gateway:
    """Consumes local messages and server commands from one queue; no I/O in the constructor."""

    def __init__(
        self,
        settings: GatewaySettings,
        router: Router,
        engine: Engine,
        outbox: Outbox,
        publish_local: PublishLocal,
        wake_uplink: Callable[[], None],
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        supervisor: Supervisor | None = None,
        falls: FallMonitor | None = None,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.clocks = Clocks(clock, monotonic)
        self.counters: Counter[str] = Counter()
        self.rules = RuleBook(engine, outbox, settings.timezone, settings.resident, self.counters)
        # SimpleQueue: its put and get are C calls, several times cheaper than Queue's (one of each per message).
        self._queue: queue.SimpleQueue[WorkItem] = queue.SimpleQueue()
        # The watchdog (gateway/runtime.py) restarts the process when `loop.alive_at` goes stale.
        self.loop = Loop(
            "gateway", self._step, wake=lambda: self._queue.put(Stop()), monotonic=lambda: self.clocks.monotonic()
        )
        self._next_tick = 0.0
        self._wake_uplink = wake_uplink
        self._grouping = False  # set while the loop handles an item: local messages then join a group commit
        self._held: list[Delivery] = []  # local messages whose readings wait for the group commit, in order
        self._held_since = 0.0
        self._lost_seen = 0  # outbox.lost already counted in outbox_errors
        # Local messages whose alarm the disk refused (parked in memory): no PUBACK until it is stored, so a
        # kill or restart meanwhile leaves the home broker to redeliver the press.
        self._parked_msgs: list[Delivery] = []
        open_alarms = OpenAlarms()
        # Waiting on the loop's stop flag between an alarm's storage attempts: stop() ends a retry at once.
        self.outlet = Outlet(
            settings,
            outbox,
            publish_local,
            self._wake_when_committed,
            open_alarms,
            self.clocks,
            self.counters,
            sleep=sleep or self.loop.wait,
            stopping=lambda: self.loop.stopping,
        )
        self.intake = DeviceIntake(
            settings,
            router,
            outbox,
            self.rules,
            self.outlet,
            supervisor or Supervisor.from_settings(settings),
            falls or FallMonitor(),
            self.clocks,
            self.counters,
        )
        self.commands = Commands(
            settings, self.rules, self.outlet, open_alarms, publish_local, self.clocks, self.counters
        )

    # Entry points, called from other threads: they only enqueue.

    def on_local_message(self, topic: str, payload: bytes, delivery: Delivery | None = None) -> None:
        """A message from the home's local MQTT bus; `delivery` is acknowledged once it is handled and stored."""
        self._queue.put(LocalMessage(topic, payload, delivery))

    def on_device_messages(self, msgs: list[DeviceMessage]) -> None:
        """Typed messages from a serial device (already framed and parsed in its reader thread)."""
        if msgs:
            self._queue.put(DeviceMessages(msgs))

    def on_bridge(self, bridge: str, up: bool) -> None:
        """A bridge the devices depend on (local broker, serial port) went down or came back."""
        self._queue.put(BridgeChange(bridge, up))

    def on_command(self, command: protocol.Command) -> None:
        """A command from the server."""
        self._queue.put(ServerCommand(command))

    def start(self) -> None:
        """Restore what the last run left in the outbox, then run the worker's loop."""
        self.rules.restore()
        self.intake.load_measurements()
        self.outlet.load_open_alarms()
        self.intake.restore_supervision()
        self._next_tick = self.clocks.monotonic() + TICK_S
        self.loop.start()

    def stop(self) -> None:
        """Stop the worker after the current item."""
        self.loop.stop()

    def _step(self) -> None:
        try:
            if self._held:  # a group is open: take what comes until it is GROUP_S old
                wait = GROUP_S - (self.clocks.monotonic() - self._held_since)
                item: WorkItem = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
            else:
                item = self._queue.get(timeout=max(0.0, self._next_tick - self.clocks.monotonic()))
        except queue.Empty:
            if self._held:
                self.commit_held()
                return
            item = Tick()
        # A steady stream (a wearable's acceleration) must not starve the timers: tick at least every second.
        now = self.clocks.monotonic()
        due = now >= self._next_tick
        self._grouping = True
        try:
            if due and not isinstance(item, Tick):
                self._guarded(Tick())
            if due or isinstance(item, Tick):
                self._next_tick = now + TICK_S
            self._guarded(item)
        finally:
            self._grouping = False
        if self._held and (
            len(self._held) >= GROUP_MAX or self.clocks.monotonic() - self._held_since >= GROUP_S or self.loop.stopping
        ):
            self.commit_held()

    def commit_held(self) -> None:
        """Commit the group the held local messages' readings and events wait in, then acknowledge them to
        the home broker, in the order they came: a PUBACK only ever follows the commit."""
        held, self._held = self._held, []
        try:
            self.outbox.flush()
        except OutboxError as exc:  # dropped, as a reading that cannot be stored always was; counted below
            log.error("could not store the readings of %d local messages: %s", len(held), exc)
        finally:
            self._count_lost()
            if held:  # what they stored may also have been committed by a write outside the group
                self._wake_uplink()
            ack_all(held)  # in order, one write for the group (anxin/mqtt.py)

    def _count_lost(self) -> None:
        """Every reading the disk refused, in whichever commit, is one outbox error (the health report's)."""
        lost = self.outbox.group.lost
        if lost > self._lost_seen:
            self.counters["outbox_errors"] += lost - self._lost_seen
            self._lost_seen = lost

    def _release_parked(self) -> None:
        """The messages whose alarms were parked are acknowledged once those alarms are on disk."""
        if self._parked_msgs and not self.outlet.parked:
            waiting, self._parked_msgs = self._parked_msgs, []
            ack_all(waiting)

    def _wake_when_committed(self) -> None:
        """The outlet's wake-up for the uplink: a buffered reading is not sendable yet (commit_held wakes)."""
        if not self.outbox.buffered:
            self._wake_uplink()

    def _guarded(self, item: WorkItem) -> None:
        try:
            self.process(item)
        except Exception:  # supervisor: one bad item must not stop the home
            self.counters["internal_errors"] += 1
            log.exception("gateway failed on %s item", type(item).__name__)

    # The work itself, synchronous so tests can drive it directly.

    def process(self, item: WorkItem) -> None:
        """Handle one queued item."""
        match item:
            case LocalMessage(topic, payload, Delivery() as delivery):
                self._exactly_once(topic, payload, delivery)
            case LocalMessage(topic, payload):
                self.intake.handle_local(topic, payload)
            case DeviceMessages(messages):
                for msg in messages:
                    self.intake.handle_message(msg)
            case BridgeChange(bridge, up):
                self.intake.bridge(bridge, up)
            case ServerCommand(command):
                self.commands.handle(command)
            case Tick():
                self._tick()
            case Stop():
                pass  # the loop commits what is held and sees its stop flag next
            case _:
                assert_never(item)

    def _exactly_once(self, topic: str, payload: bytes, delivery: Delivery) -> None:
        # A redelivery (the broker never got our PUBACK, e.g. we were killed) stores only what the
        # first delivery did not: exactly once into the outbox. In the loop its readings join a group
        # commit (alarms are committed at once, with a full fsync, taking the group along).
        key = delivery.key(topic, payload)
        parked_before = len(self.outlet.parked)
        with self.outbox.source(key, replay=delivery.redelivered, group=self._grouping):
            try:
                self.intake.handle_local(topic, payload)
            except Exception:
                # Acknowledged too (the error is counted by _guarded): a redelivery would fail the same
                # way, and Mosquitto sends nothing more once 20 messages wait unacknowledged — the
                # next SOS press would never arrive. Alarms decided before the error are parked or
                # stored already; a crash still skips the ack, so the message is redelivered.
                self._ack_when_stored(delivery, parked_before)
                raise
        self._ack_when_stored(
            delivery, parked_before
        )  # only once it is on disk may the local broker forget the message

    def _ack_when_stored(self, delivery: Delivery, parked_before: int) -> None:
        """PUBACK now if nothing of this message (or of one before it) waits for the group commit."""
        if len(self.outlet.parked) > parked_before:  # this message's alarm is only in memory
            self._parked_msgs.append(delivery)
            return
        if self._held or self.outbox.buffered:
            if not self._held:
                self._held_since = self.clocks.monotonic()
            self._held.append(delivery)
        else:
            delivery.ack()

    def _tick(self) -> None:
        self.counters["ticks"] += 1
        self.outlet.store_parked()
        self._release_parked()
        self._count_lost()
        self.outbox.report_refused(self.clocks.wall(), self.clocks.monotonic())  # which numbers never come
        if not self.outbox.enforce_cap(self.clocks.wall(), self.clocks.monotonic()):  # never in an alarm's commit
            self.counters["outbox_errors"] += 1
        self.outlet.save_open_alarms()
        self.intake.tick()
        self.decide(rules_engine.Tick())

    def decide(self, item: Input) -> None:
        """Run the rules; their alarms leave through the outlet first, then their actions."""
        self.outlet.carry_out(self.rules.evaluate(item, self.clocks.utc()))
