"""The gateway's one worker: parse, store, decide, act — in that order, for every message."""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Callable

from anxin import protocol
from anxin.mqtt import Delivery, MqttError
from gateway.commands import Commands, PublishLocal, mode_topic
from gateway.config import GatewaySettings
from gateway.devices.bp import RecentMeasurements
from gateway.devices.router import Router
from gateway.errors import OutboxError
from gateway.falls.monitor import FallMonitor
from gateway.home.health import part_alarm
from gateway.intake import DeviceIntake, message_body
from gateway.model import Action, Alarm, DeviceEvent, DeviceMessage, LedState
from gateway.open_alarms import OpenAlarms
from gateway.outbox import Outbox
from gateway.rulebook import RuleBook
from gateway.rules import messages
from gateway.rules.engine import Engine, ModeChange, Tick
from gateway.supervision import Supervisor
from gateway.unknown_keys import UnknownKeyLedger

__all__ = ["Gateway", "action_topic", "alarm_body", "message_body", "mode_topic"]  # message_body, mode_topic: moved

log = logging.getLogger(__name__)

MEASUREMENTS_KEY = "forwarded_measurements"  # outbox meta: survives restarts, so resends stay dropped
OPEN_ALARMS_KEY = "open_alarms"  # outbox meta: which alarms "help is coming" may still be said for
ALARM_ATTEMPTS = 3  # then the alarm is parked and retried from the tick: the worker must keep deciding
ALARM_RETRY_S = 0.2


def action_topic(gateway_id: str) -> str:
    """Local-bus topic where the home's speaker / LED / siren listen."""
    return f"anxin/home/{gateway_id}/action"


def alarm_body(alarm: Alarm, resident: str | None) -> dict[str, Any]:
    """An alarm as it travels in the uplink."""
    return {
        "type": alarm.type,
        "severity": alarm.severity.value,
        "change": alarm.change.value,
        "device": alarm.device,
        "message": alarm.message,
        "detail": dict(alarm.detail),
        "resident": resident,
    }


class Gateway(DeviceIntake, Commands):
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
        self.router = router
        self.outbox = outbox
        self.publish_local = publish_local
        self.wake_uplink = wake_uplink
        self.clock = clock
        self.monotonic = monotonic
        self.falls = falls or FallMonitor()
        self.counters: Counter[str] = Counter()
        self.supervisor = supervisor or Supervisor.from_settings(settings)
        self.supervision = self.supervisor.initial(clock())
        self._supervision_saved: dict[str, list[str]] | None = None
        self.measurements = RecentMeasurements()
        self.open_alarms = OpenAlarms()
        self._open_alarms_dirty = False
        self.unknown_keys = UnknownKeyLedger()
        self.rules = RuleBook(engine, outbox, settings.timezone, settings.resident, self.counters)
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.alive_at = monotonic()  # the watchdog restarts the process when this goes stale
        self.sleep = sleep or self._stop.wait  # waiting on the stop event: stop() ends a retry at once
        self.parked: list[tuple[dict[str, Any], float, float]] = []  # alarms the disk refused, oldest first
        self.on_led: Callable[[LedState], None] | None = None  # the Pi's own light, when it has one
        self.part_problems: dict[str, dict[str, str]] = {}  # the speaker's and the panel's last health reports

    # Entry points, called from other threads: they only enqueue.

    def on_local_message(self, topic: str, payload: bytes, delivery: Delivery | None = None) -> None:
        """A message from the home's local MQTT bus; `delivery` is acknowledged once it is handled and stored."""
        self._queue.put(("local", (topic, payload, delivery)))

    def on_device_messages(self, msgs: list[DeviceMessage]) -> None:
        """Typed messages from a serial device (already framed and parsed in its reader thread)."""
        if msgs:
            self._queue.put(("messages", msgs))

    def on_bridge(self, bridge: str, up: bool) -> None:
        """A bridge the devices depend on (local broker, serial port) went down or came back."""
        self._queue.put(("bridge", (bridge, up)))

    def on_command(self, command: protocol.Command) -> None:
        """A command from the server."""
        self._queue.put(("command", command))

    def start(self) -> None:
        """Run the worker thread."""
        self.rules.restore()
        self._load_measurements()
        self.restore_supervision()
        self._thread = threading.Thread(target=self._run, name="gateway", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker thread after the current item."""
        self._stop.set()
        self._queue.put(("stop", None))
        if self._thread:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        next_tick = self.monotonic() + 1.0
        while not self._stop.is_set():
            self.alive_at = self.monotonic()
            try:
                kind, item = self._queue.get(timeout=max(0.0, next_tick - self.monotonic()))
            except queue.Empty:
                kind, item = "tick", None
            # A steady stream (a wearable's acceleration) must not starve the timers: tick at least every second.
            now = self.monotonic()
            if kind != "tick" and now >= next_tick:
                self._guarded("tick", None)
            if kind == "tick" or now >= next_tick:
                next_tick = now + 1.0
            self._guarded(kind, item)

    def _guarded(self, kind: str, item: Any) -> None:
        try:
            self.process(kind, item)
        except Exception:  # supervisor: one bad item must not stop the home
            self.counters["internal_errors"] += 1
            log.exception("gateway failed on %s item", kind)

    # The work itself, synchronous so tests can drive it directly.

    def process(self, kind: str, item: Any) -> None:
        """Handle one queued item."""
        if kind == "local":
            topic, payload, *rest = item
            delivery = rest[0] if rest else None
            if delivery is None:
                self.handle_local(topic, payload)
                return
            # A redelivery (the broker never got our PUBACK, e.g. we were killed) stores only what the
            # first delivery did not: exactly once into the outbox.
            with self.outbox.source(delivery.key(topic, payload), replay=delivery.redelivered):
                try:
                    self.handle_local(topic, payload)
                except Exception:
                    # Acknowledged too (the error is counted by _guarded): a redelivery would fail the same
                    # way, and Mosquitto sends nothing more once 20 messages wait unacknowledged — the
                    # next SOS press would never arrive. Alarms decided before the error are parked or
                    # stored already; a crash still skips the ack, so the message is redelivered.
                    delivery.ack()
                    raise
            delivery.ack()  # only now may the local broker forget the message
        elif kind == "command":
            self.handle_command(item)
        elif kind == "messages":
            for msg in item:
                self.handle_message(msg)
        elif kind == "bridge":
            self.supervise(self.supervisor.bridge(self.supervision, item[0], item[1], self.clock()))
        elif kind == "tick":
            self.counters["ticks"] += 1
            self.store_parked()
            self._save_open_alarms()
            for fall in self.falls.expire(self.clock()):  # a wearable gone quiet right after an impact
                self.handle_message(fall)
            self.supervise(self.supervisor.tick(self.supervision, self.clock()))
            self.decide(Tick())

    def _load_measurements(self) -> None:
        try:
            self.measurements.load(self.outbox.get_meta(MEASUREMENTS_KEY))
            self.open_alarms.load(self.outbox.get_meta(OPEN_ALARMS_KEY), self.clock())
        except (OutboxError, sqlite3.Error) as exc:
            log.error("could not read the forwarded-measurements memory: %s", exc)

    def _save_open_alarms(self) -> None:
        # On the tick, not beside the alarm: this write's fsync must not hold the outbox while the
        # uplink sends the alarm. A crash within the second forgets only a spoken "help is coming".
        if not self._open_alarms_dirty:
            return
        try:
            self.outbox.set_meta(OPEN_ALARMS_KEY, self.open_alarms.dump())
            self._open_alarms_dirty = False
        except (OutboxError, sqlite3.Error) as exc:  # the alarm is stored; only the spoken ack may be missed
            log.error("could not save the open alarms: %s", exc)

    def _save_measurements(self) -> None:
        try:
            self.outbox.set_meta(MEASUREMENTS_KEY, self.measurements.dump())
        except (OutboxError, sqlite3.Error) as exc:
            self.counters["outbox_errors"] += 1
            log.error("could not save the forwarded-measurements memory: %s", exc)

    def forward(self, msg: DeviceMessage) -> None:
        """Queue a reading or event for the server."""
        if isinstance(msg, DeviceEvent) and msg.kind.value == "unknown_device":
            self.counters["unknown_devices"] += 1
            log.warning("unknown device %r on the local bus: pair it in the gateway configuration", msg.device)
        lane, body = message_body(msg)
        try:
            self.outbox.put(lane, body, self.clock(), self.monotonic())
        except OutboxError as exc:
            self.counters["outbox_errors"] += 1
            log.error("could not store %s from %s: %s", lane, msg.device, exc)
            return
        self.wake_uplink()

    def decide(self, item: DeviceMessage | Tick | ModeChange) -> None:
        """Run the rules; store alarms durably first, then act in the home — whatever the disk says."""
        now = datetime.fromtimestamp(self.clock(), timezone.utc)
        decision = self.rules.evaluate(item, now)
        for alarm in decision.alarms:
            self.raise_alarm(alarm)
        for action in decision.actions:
            self.act(action)

    def raise_alarm(self, alarm: Alarm) -> None:
        """Write the alarm to the outbox with a full fsync, then wake the uplink; park it if the disk refuses."""
        self.counters["alarms"] += 1
        body = alarm_body(alarm, self.settings.resident)
        self.parked.append((body, self.clock(), self.monotonic()))
        # Parked alarms go first: a cancel must never reach the server before the alarm it retracts.
        attempts = 1 if len(self.parked) > 1 else ALARM_ATTEMPTS
        for attempt in range(attempts):
            if attempt:
                self.sleep(ALARM_RETRY_S)
            if self.store_parked() or self._stop.is_set():
                return
        self.counters["alarms_parked"] += 1
        log.critical("alarm %s parked, %d waiting for the disk; retried every tick", alarm.type, len(self.parked))

    def store_parked(self) -> bool:
        """Store parked alarms in order, stopping at the first refusal; True when none is left."""
        while self.parked:
            body, ts, mono = self.parked[0]
            try:
                seq = self.outbox.put_alarm(body, ts, mono)
            except OutboxError as exc:  # never drop an alarm: it stays parked
                self.counters["outbox_errors"] += 1
                log.error("could not store alarm %s: %s", body["type"], exc)
                return False
            self.parked.pop(0)
            log.info("alarm %s (%s) from %s stored as seq %d", body["type"], body["change"], body["device"], seq)
            self.wake_uplink()
            self.open_alarms.record(body, seq, self.clock())
            self._open_alarms_dirty = True
        return True

    def act(self, action: Action, **params: str) -> None:
        """Tell the home's speaker / LED / siren what to do."""
        if action.kind == "report":  # for the server (a reminder's outcome), not for the home
            self.report({"device": action.device, "kind": action.message_key, "detail": dict(action.detail)})
            return
        if action.kind == "led":  # a light shows a state, not a sentence
            state = LedState(action.message_key)
            doc: dict[str, Any] = {"v": 1, "action": "led", "state": state.value, "device": action.device}
            self._show(state)
        else:
            words = {k: v for k, v in action.detail.items() if isinstance(v, str)}  # a reminder's {what}
            text = messages.text(action.message_key, self.settings.language, **{**words, **params})
            doc = {"v": 1, "action": action.kind, "key": action.message_key, "text": text,
                   "lang": self.settings.language, "device": action.device, **dict(action.detail)}
        try:
            self.publish_local(action_topic(self.settings.gateway_id), json.dumps(doc, ensure_ascii=False).encode())
            self.counters["actions"] += 1
        except Exception as exc:  # the local broker is down: the alarm is already safe on disk
            self.counters["action_errors"] += 1
            log.error("could not publish local action %s: %s", action.message_key, exc)

    def _show(self, state: LedState) -> None:
        if self.on_led is None:
            return
        try:
            self.on_led(state)
        except Exception as exc:  # a light that fails must not keep the words from being published
            self.counters["action_errors"] += 1
            log.error("could not set the Pi's light to %s: %s", state.value, exc)

    def part_health(self, part: str, payload: bytes) -> None:
        """A home part's health report (speaker, panel): a technical alarm while it is broken, cleared after."""
        problems, alarm = part_alarm(part, payload, self.part_problems.get(part))
        self.part_problems[part] = problems or {}
        if alarm is not None:
            log.log(logging.ERROR if problems else logging.INFO, "%s: %s", part, alarm.message)
            self.raise_alarm(alarm)

    def report(self, body: dict[str, Any]) -> None:
        """Queue a gateway event (rules configuration applied or rejected) for the server."""
        try:
            self.outbox.put("event", body, self.clock(), self.monotonic())
        except OutboxError as exc:
            self.counters["outbox_errors"] += 1
            log.error("could not store %s report: %s", body.get("kind"), exc)
            return
        self.wake_uplink()
