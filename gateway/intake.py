"""Device intake: a local message or a serial device's messages parsed, de-duplicated and supervised."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Callable

from gateway.commands import mode_topic
from gateway.config import GatewaySettings
from gateway.devices.bp import RecentMeasurements
from gateway.devices.router import Router
from gateway.errors import ImplausibleReading, ParseError
from gateway.falls.errors import StreamError
from gateway.falls.monitor import FallMonitor, summary
from gateway.model import AccelChunk, DeviceEvent, DeviceMessage, Reading
from gateway.rules.engine import Input
from gateway.supervision import Supervisor

log = logging.getLogger(__name__)


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
    forward: Callable[[DeviceMessage], None]
    decide: Callable[[Input], None]
    set_mode: Callable[[bytes, str], None]
    _save_measurements: Callable[[], None]

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

    def supervise(self, result: tuple[Any, list[DeviceEvent]]) -> None:
        """Adopt supervision's new state; forward its technical events and run the rules on them."""
        self.supervision, events = result
        for event in events:
            self.counters[f"supervision_{event.kind.value}"] += 1
            log.info("supervision: %s %s %s", event.device, event.kind.value, dict(event.detail) or "")
            self.forward(event)
            self.decide(event)
