"""Device intake: a local message or a serial device's messages parsed, de-duplicated and supervised."""

from __future__ import annotations

import json
import logging
import math
import sqlite3
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Callable

from gateway.commands import mode_topic
from gateway.config import GatewaySettings
from gateway.devices.bp import RecentMeasurements
from gateway.devices.router import Router
from gateway.errors import ImplausibleReading, OutboxError, ParseError
from gateway.falls.errors import StreamError
from gateway.falls.monitor import FallMonitor, summary
from gateway.home.health import PARTS, health_topic
from gateway.model import AccelChunk, DeviceEvent, DeviceMessage, EventKind, Reading
from gateway.outbox import Outbox
from gateway.rules import push
from gateway.rules.engine import Input
from gateway.supervision import Supervisor
from gateway.unknown_keys import UnknownKeyLedger

log = logging.getLogger(__name__)

SUPERVISION_KEY = "supervision_state"  # outbox meta: who is offline / low on battery, across restarts


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


class DeviceIntake:
    """The device half of the gateway worker (mixed into `Gateway`, which provides what is declared here)."""

    settings: GatewaySettings
    router: Router
    counters: Counter[str]
    clock: Callable[[], float]
    falls: FallMonitor
    supervisor: Supervisor
    supervision: Any
    measurements: RecentMeasurements
    unknown_keys: UnknownKeyLedger
    outbox: Outbox
    _supervision_saved: dict[str, list[str]] | None
    forward: Callable[[DeviceMessage], None]
    decide: Callable[[Input], None]
    set_mode: Callable[[bytes, str], None]
    part_health: Callable[[str, bytes], None]
    _save_measurements: Callable[[], None]

    def handle_local(self, topic: str, payload: bytes) -> None:
        """Parse a local message, forward it, and run the rules on it."""
        self.counters["local_messages"] += 1
        if topic == mode_topic(self.settings.gateway_id):
            self.set_mode(payload, "home")
            return
        for part in PARTS:  # the speaker's and the panel's health reports
            if topic == health_topic(self.settings.gateway_id, part):
                self.part_health(part, payload)
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
        if isinstance(msg, Reading) and not all(_finite(v) for v in msg.values.values()):
            # JSON allows NaN and Infinity; no rule can judge them and no trend should show them.
            self.counters["parse_errors"] += 1
            log.warning("rejected %s reading from %s: not a finite number in %s", msg.metric, msg.device,
                        dict(msg.values))
            return
        if self.measurements.is_repeat(msg):
            self.counters["duplicate_measurements"] += 1
            return
        self.supervision, events = self.supervisor.observe(self.supervision, msg, self.clock())
        if isinstance(msg, DeviceEvent) and msg.kind == EventKind.UNKNOWN_KEYS:
            self.note_unknown_keys(msg)
        if isinstance(msg, AccelChunk):
            try:
                falls = self.falls.feed(msg, self.clock())
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

    def note_unknown_keys(self, msg: DeviceEvent) -> None:
        """Count keys a known device sent that nothing reads; report them to the server now and then."""
        self.counters["unknown_keys"] += 1
        for report in self.unknown_keys.note(msg, self.clock()):
            log.warning("device %s sends keys the gateway does not understand (ignored, %d messages so far): %s",
                        report.device, report.detail["messages"], ", ".join(report.detail["keys"]))
            self.forward(report)

    def supervise(self, result: tuple[Any, list[DeviceEvent]]) -> None:
        """Adopt supervision's new state (persisted when who is in trouble changed); forward its technical
        events and run the rules on them."""
        self.supervision, events = result
        self._save_supervision()
        for event in events:
            self.counters[f"supervision_{event.kind.value}"] += 1
            log.info("supervision: %s %s %s", event.device, event.kind.value, dict(event.detail) or "")
            self.forward(event)
            self.decide(event)

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
        dumped = self.supervisor.dump(self.supervision)
        if dumped == self._supervision_saved:
            return
        try:
            self.outbox.set_meta(SUPERVISION_KEY, json.dumps(dumped))
            self._supervision_saved = dumped
        except (OutboxError, sqlite3.Error) as exc:
            self.counters["outbox_errors"] += 1
            log.error("could not persist supervision state: %s", exc)


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _from_rule_state(raw: str | None) -> dict[str, Any] | None:
    """Gateways before supervision owned its state kept it in the supervision rule's slice: take it over once."""
    old = json.loads(raw).get("supervision") if raw else None
    if not isinstance(old, dict):
        return None
    return {"offline": old.get("offline", []), "battery_low": old.get("battery_low", []),
            "bridges_down": old.get("bridge_offline", [])}
