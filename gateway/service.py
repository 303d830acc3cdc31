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
from gateway.config import GatewaySettings
from gateway.devices import zigbee2mqtt
from gateway.devices.bp import RecentMeasurements
from gateway.devices.router import Router
from gateway.errors import ImplausibleReading, OutboxError, ParseError
from gateway.falls.errors import StreamError
from gateway.falls.monitor import FallMonitor, summary
from gateway.model import AccelChunk, Action, Alarm, DeviceEvent, DeviceMessage, Reading
from gateway.outbox import Outbox
from gateway.rulebook import RuleBook
from gateway.rules import messages, push
from gateway.rules.config import RulesConfigError
from gateway.rules.engine import Engine, ModeChange, Tick
from gateway.supervision import Supervisor

log = logging.getLogger(__name__)

PublishLocal = Callable[[str, bytes], object]
MEASUREMENTS_KEY = "forwarded_measurements"  # outbox meta: survives restarts, so resends stay dropped


def action_topic(gateway_id: str) -> str:
    """Local-bus topic where the home's speaker / LED / siren listen."""
    return f"anxin/home/{gateway_id}/action"


def mode_topic(gateway_id: str) -> str:
    """Local-bus topic where the home sets away mode: `{"away": true}`."""
    return f"anxin/home/{gateway_id}/mode"


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


def message_body(msg: DeviceMessage) -> tuple[str, dict[str, Any]]:
    """(lane, body) for a device message forwarded to the server."""
    if isinstance(msg, Reading):
        body = {
            "device": msg.device,
            "metric": msg.metric,
            "values": dict(msg.values),
            "flags": sorted(msg.flags),
            "detail": dict(msg.detail),
            "measured_at": msg.ts.isoformat() if msg.ts else None,
        }
        return "reading", body
    if isinstance(msg, AccelChunk):  # never sample by sample: the gateway detects falls itself
        return "reading", {"device": msg.device, "metric": "acceleration_summary", "values": summary(msg),
                           "flags": [], "detail": {},
                           "measured_at": datetime.fromtimestamp(msg.t0, timezone.utc).isoformat()}
    return "event", {"device": msg.device, "kind": msg.kind.value, "detail": dict(msg.detail)}


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
        self.measurements = RecentMeasurements()
        self.rules = RuleBook(engine, outbox, settings.timezone, settings.resident, self.counters)
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.alive_at = monotonic()  # the watchdog restarts the process when this goes stale

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
                self.handle_local(topic, payload)
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
            self.supervise(self.supervisor.tick(self.supervision, self.clock()))
            self.decide(Tick())

    def handle_local(self, topic: str, payload: bytes) -> None:
        """Parse a local message, forward it, and run the rules on it."""
        self.counters["local_messages"] += 1
        if topic == mode_topic(self.settings.gateway_id):
            self.set_mode(payload, "home")
            return
        if topic.startswith("anxin/home/"):
            return  # our own action messages echoed back
        try:
            msgs = self.router.parse(topic, payload)
        except ImplausibleReading as exc:  # well-formed but not clinical data: counted apart
            self.counters["implausible_readings"] += 1
            log.warning("rejected reading on %s: %s", topic, exc)
            return
        except ParseError as exc:
            self.counters["parse_errors"] += 1
            log.warning("rejected message on %s (%d bytes): %s", topic, len(payload), exc)
            return
        for msg in msgs:
            self.handle_message(msg)

    def handle_message(self, msg: DeviceMessage) -> None:
        """One typed message: drop resent measurements, supervise, then acceleration to the fall detector
        and everything else forwarded and into the rules."""
        if self.measurements.is_repeat(msg):
            self.counters["duplicate_measurements"] += 1
            return
        self.supervision, events = self.supervisor.observe(self.supervision, msg, self.clock())
        if isinstance(msg, AccelChunk):
            try:
                falls = self.falls.feed(msg)
            except StreamError as exc:
                self.counters["accel_errors"] += 1
                log.warning("rejected acceleration from %s: %s", msg.device, exc)
                falls = []
            for fall in falls:  # a detected fall is a fall like any other: forwarded, and into the rules
                self.handle_message(fall)
        elif not self.supervisor.absorbs(msg):
            self.forward(msg)
            self.decide(msg)
        if self.measurements.dirty:  # only after the reading is stored: a crash may repeat it, not lose it
            self._save_measurements()
        self.supervise((self.supervision, events))

    def _load_measurements(self) -> None:
        try:
            self.measurements.load(self.outbox.get_meta(MEASUREMENTS_KEY))
        except (OutboxError, sqlite3.Error) as exc:
            log.error("could not read the forwarded-measurements memory: %s", exc)

    def _save_measurements(self) -> None:
        try:
            self.outbox.set_meta(MEASUREMENTS_KEY, self.measurements.dump())
        except (OutboxError, sqlite3.Error) as exc:
            self.counters["outbox_errors"] += 1
            log.error("could not save the forwarded-measurements memory: %s", exc)

    def supervise(self, result: tuple[Any, list[DeviceEvent]]) -> None:
        """Adopt supervision's new state; forward its technical events and run the rules on them."""
        self.supervision, events = result
        for event in events:
            self.counters[f"supervision_{event.kind.value}"] += 1
            log.info("supervision: %s %s %s", event.device, event.kind.value, dict(event.detail) or "")
            self.forward(event)
            self.decide(event)

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
        """Run the rules; store alarms durably first, then act in the home."""
        now = datetime.fromtimestamp(self.clock(), timezone.utc)
        decision = self.rules.evaluate(item, now)
        for alarm in decision.alarms:
            self.raise_alarm(alarm)
        for action in decision.actions:
            self.act(action)

    def raise_alarm(self, alarm: Alarm) -> None:
        """Write the alarm to the outbox with a full fsync, then wake the uplink."""
        self.counters["alarms"] += 1
        body = alarm_body(alarm, self.settings.resident)
        while True:
            try:
                seq = self.outbox.put_alarm(body, self.clock(), self.monotonic())
                break
            except OutboxError as exc:  # never drop an alarm: retry until the disk takes it
                self.counters["outbox_errors"] += 1
                log.error("could not store alarm %s, retrying: %s", alarm.type, exc)
                time.sleep(0.2)
        log.info("alarm %s (%s) from %s stored as seq %d", alarm.type, alarm.change.value, alarm.device, seq)
        self.wake_uplink()

    def act(self, action: Action, **params: str) -> None:
        """Tell the home's speaker / LED / siren what to do."""
        text = messages.text(action.message_key, self.settings.language, **params)
        doc = {"v": 1, "action": action.kind, "key": action.message_key, "text": text,
               "lang": self.settings.language, "device": action.device, **dict(action.detail)}
        try:
            self.publish_local(action_topic(self.settings.gateway_id), json.dumps(doc, ensure_ascii=False).encode())
            self.counters["actions"] += 1
        except Exception as exc:  # the local broker is down: the alarm is already safe on disk
            self.counters["action_errors"] += 1
            log.error("could not publish local action %s: %s", action.message_key, exc)

    def handle_command(self, command: protocol.Command) -> None:
        """Commands from the server: acknowledgement feedback to the resident, and more."""
        self.counters["commands"] += 1
        if command.cmd == "alarm_acknowledged":
            by = str(command.args.get("by") or "")
            device = command.args.get("device")
            self.act(Action("say", "help_coming", device, {"alarm_id": command.args.get("alarm_id")}), by=by)
            self.act(Action("led", "help_coming", device), by=by)
        elif command.cmd == push.COMMAND:
            self.report(self.rules.apply(command.args))
        elif command.cmd == push.MODE_COMMAND:
            self.set_mode(json.dumps(command.args).encode(), "server")
        elif command.cmd == "permit_join":  # an installer pairs a new zigbee device from the console
            self.permit_join(command.args.get("seconds", 120))
        else:
            log.warning("unknown command %r from the server", command.cmd)

    def set_mode(self, payload: bytes, source: str) -> None:
        """Away mode from the home's bus or the server."""
        try:
            doc = json.loads(payload)
            change = push.mode_change(doc if isinstance(doc, dict) else {}, source)
        except (ValueError, RulesConfigError) as exc:
            self.counters["parse_errors"] += 1
            log.warning("bad away-mode message from %s: %s", source, exc)
            return
        log.info("away mode %s (from %s)", "on" if change.away else "off", source)
        self.decide(change)

    def report(self, body: dict[str, Any]) -> None:
        """Queue a gateway event (rules configuration applied or rejected) for the server."""
        try:
            self.outbox.put("event", body, self.clock(), self.monotonic())
        except OutboxError as exc:
            self.counters["outbox_errors"] += 1
            log.error("could not store %s report: %s", body.get("kind"), exc)
            return
        self.wake_uplink()

    def permit_join(self, seconds: object) -> None:
        """Open (or with 0 close) the zigbee network for pairing through zigbee2mqtt."""
        try:
            topic, payload = zigbee2mqtt.permit_join_request(int(seconds))  # type: ignore[call-overload]
            self.publish_local(topic, payload)
            log.info("zigbee2mqtt permit_join for %s s", seconds)
        except (ValueError, TypeError) as exc:
            log.warning("bad permit_join command (%r): %s", seconds, exc)
        except MqttError as exc:  # the local broker is down: say so, the installer will retry
            self.counters["action_errors"] += 1
            log.error("could not publish permit_join: %s", exc)
