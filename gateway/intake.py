"""Device intake: a local message or a serial device's messages parsed, de-duplicated, supervised, forwarded
and judged by the rules — whose alarms and actions leave through the outlet."""

from __future__ import annotations

import json
import logging
import math
import sqlite3
from collections import Counter
from collections.abc import Iterable
from operator import attrgetter
from typing import Any

from gateway.clocks import Clocks
from gateway.commands import mode_topic, read_mode
from gateway.config import GatewaySettings
from gateway.devices.bp import RecentMeasurements
from gateway.devices.router import Router
from gateway.errors import ImplausibleReading, OutboxError, ParseError
from gateway.falls.errors import StreamError
from gateway.falls.monitor import FallMonitor
from gateway.home.health import PARTS, health_topic, part_alarm
from gateway.model import AccelChunk, DeviceEvent, DeviceMessage, EventKind, Reading
from gateway.outbox import Outbox
from gateway.outlet import Outlet
from gateway.rulebook import RuleBook
from gateway.rules import push
from gateway.rules.engine import Input
from gateway.supervision import PERSISTED, Result, Supervisor
from gateway.unknown_keys import UnknownKeyLedger

log = logging.getLogger(__name__)

SUPERVISION_KEY = "supervision_state"  # outbox meta: who is offline / low on battery, across restarts
MEASUREMENTS_KEY = "forwarded_measurements"  # outbox meta: survives restarts, so resends stay dropped


class DeviceIntake:
    """What came from the home's devices, handled on the worker's thread; no I/O in the constructor."""

    def __init__(
        self,
        settings: GatewaySettings,
        router: Router,
        outbox: Outbox,
        rules: RuleBook,
        outlet: Outlet,
        supervisor: Supervisor,
        falls: FallMonitor,
        clocks: Clocks,
        counters: Counter[str],
    ) -> None:
        self.settings = settings
        self.router = router
        self.outbox = outbox  # its meta table keeps supervision and the forwarded measurements across restarts
        self.rules = rules
        self.outlet = outlet
        self.supervisor = supervisor
        self.supervision = supervisor.initial(clocks.wall())
        self.falls = falls
        self.clocks = clocks
        self.counters = counters
        self.measurements = RecentMeasurements()
        self.unknown_keys = UnknownKeyLedger()
        self.part_problems: dict[str, dict[str, str]] = {}  # the speaker's and the panel's last health reports
        self._supervision_saved: dict[str, list[str]] | None = None
        # The persisted parts of the supervision state last saved, as objects: they are replaced, never
        # changed, so the same objects mean nothing to save (checked after every message).
        self._supervision_saved_parts: tuple[object, ...] = ()
        self._mode_topic = mode_topic(settings.gateway_id)
        self._health_topics = {health_topic(settings.gateway_id, part): part for part in PARTS}

    def handle_local(self, topic: str, payload: bytes) -> None:
        """Parse a local message, forward it, and run the rules on it."""
        self.counters["local_messages"] += 1
        if topic.startswith("anxin/home/"):
            if topic == self._mode_topic:
                change = read_mode(payload, "home", self.counters)
                if change is not None:
                    self._decide(change)
                return
            part = self._health_topics.get(topic)  # the speaker's and the panel's health reports
            if part is not None:
                self.part_health(part, payload)
                return
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

    def part_health(self, part: str, payload: bytes) -> None:
        """A home part's health report (speaker, panel): a technical alarm while it is broken, cleared after."""
        problems, alarm = part_alarm(part, payload, self.part_problems.get(part))
        self.part_problems[part] = problems or {}
        if alarm is not None:
            log.log(logging.ERROR if problems else logging.INFO, "%s: %s", part, alarm.message)
            self.outlet.raise_alarm(alarm)

    def handle_message(self, msg: DeviceMessage) -> None:
        """One typed message: drop resent measurements, supervise, then acceleration to the fall detector
        and everything else forwarded and into the rules."""
        if isinstance(msg, Reading) and not _all_finite(msg.values.values()):
            # JSON allows NaN and Infinity; no rule can judge them and no trend should show them.
            self.counters["parse_errors"] += 1
            log.warning(
                "rejected %s reading from %s: not a finite number in %s", msg.metric, msg.device, dict(msg.values)
            )
            return
        if self.measurements.is_repeat(msg):
            self.counters["duplicate_measurements"] += 1
            return
        self.supervision, events = self.supervisor.observe(self.supervision, msg, self.clocks.wall())
        if isinstance(msg, DeviceEvent) and msg.kind == EventKind.UNKNOWN_KEYS:
            self.note_unknown_keys(msg)
        if isinstance(msg, AccelChunk):
            try:
                falls = self.falls.feed(msg, self.clocks.wall())
            except StreamError as exc:
                self.counters["accel_errors"] += 1
                log.warning("rejected acceleration from %s: %s", msg.device, exc)
                falls = []
            for fall in falls:  # a detected fall is a fall like any other: forwarded, and into the rules
                self.handle_message(fall)
        elif not self.supervisor.absorbs(msg):
            self.outlet.forward(msg)
            self._decide(msg)
        if self.measurements.dirty:  # only after the reading is stored: a crash may repeat it, not lose it
            self._save_measurements()
        self.supervise((self.supervision, events))

    def note_unknown_keys(self, msg: DeviceEvent) -> None:
        """Count keys a known device sent that nothing reads; report them to the server now and then."""
        self.counters["unknown_keys"] += 1
        for report in self.unknown_keys.note(msg, self.clocks.wall()):
            log.warning(
                "device %s sends keys the gateway does not understand (ignored, %d messages so far): %s",
                report.device,
                report.detail["messages"],
                ", ".join(report.detail["keys"]),
            )
            self.outlet.forward(report)

    def bridge(self, bridge: str, up: bool) -> None:
        """A bridge the devices depend on went down or came back."""
        self.supervise(self.supervisor.bridge(self.supervision, bridge, up, self.clocks.wall()))

    def tick(self) -> None:
        """Time passed: a wearable gone quiet right after an impact is a fall; silent devices are offline."""
        for fall in self.falls.expire(self.clocks.wall()):
            self.handle_message(fall)
        self.supervise(self.supervisor.tick(self.supervision, self.clocks.wall()))

    def supervise(self, result: Result) -> None:
        """Adopt supervision's new state (persisted when who is in trouble changed); forward its technical
        events and run the rules on them."""
        self.supervision, events = result
        self._save_supervision()
        for event in events:
            self.counters[f"supervision_{event.kind.value}"] += 1
            log.info("supervision: %s %s %s", event.device, event.kind.value, dict(event.detail) or "")
            self.outlet.forward(event)
            self._decide(event)

    def _decide(self, item: Input) -> None:
        if self.rules.engine.route(item):  # a device's battery report, say, is no rule's business
            self.outlet.carry_out(self.rules.evaluate(item, self.clocks.utc()))

    def load_measurements(self) -> None:
        """At start: the measurements forwarded before a restart, so a monitor's resend is still dropped."""
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

    def restore_supervision(self) -> None:
        """At start: who was in trouble before the restart, so their recovery still clears the alarm."""
        try:
            raw = self.outbox.get_meta(SUPERVISION_KEY)
            data = json.loads(raw) if raw else _from_rule_state(self.outbox.get_meta(push.META_STATE))
            if data is not None:
                self.supervise(self.supervisor.restore(self.supervision, data))
        except (OutboxError, sqlite3.Error, ValueError) as exc:
            self.counters["outbox_errors"] += 1
            log.error("could not restore supervision state, starting with every device fine: %s", exc)

    def _save_supervision(self) -> None:
        state = self.supervision
        parts = _persisted(state)
        if len(parts) == len(self._supervision_saved_parts) and all(
            a is b for a, b in zip(parts, self._supervision_saved_parts, strict=True)
        ):
            return
        dumped = self.supervisor.dump(state)
        if dumped == self._supervision_saved:
            self._supervision_saved_parts = parts
            return
        try:
            self.outbox.set_meta(SUPERVISION_KEY, json.dumps(dumped))
            self._supervision_saved = dumped
            self._supervision_saved_parts = parts
        except (OutboxError, sqlite3.Error) as exc:
            self.counters["outbox_errors"] += 1
            log.error("could not persist supervision state: %s", exc)


_persisted = attrgetter(*PERSISTED)  # the parts of the supervision state that survive a restart


def _all_finite(values: Iterable[object]) -> bool:
    for value in values:  # noqa: SIM110 — a plain loop, no generator: every reading passes here
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
    return True


def _from_rule_state(raw: str | None) -> dict[str, Any] | None:
    """Gateways before supervision owned its state kept it in the supervision rule's slice: take it over once."""
    old = json.loads(raw).get("supervision") if raw else None
    if not isinstance(old, dict):
        return None
    return {
        "offline": old.get("offline", []),
        "battery_low": old.get("battery_low", []),
        "bridges_down": old.get("bridge_offline", []),
    }
