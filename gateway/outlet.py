"""Everything the gateway worker sends out: readings and events to the server through the outbox, alarms
stored with a full fsync first (parked when the disk refuses), and actions for the home's speaker / LED.

Used only from the worker's thread (gateway/service.py), by the intake and the command handling.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from anxin import protocol
from gateway.clocks import Clocks
from gateway.config import GatewaySettings
from gateway.errors import OutboxError
from gateway.falls.monitor import summary
from gateway.model import AccelChunk, Action, Alarm, DeviceEvent, DeviceMessage, LedState, Reading
from gateway.open_alarms import OpenAlarms
from gateway.outbox import Outbox
from gateway.rules import messages
from gateway.rules.engine import Decision

log = logging.getLogger(__name__)

PublishLocal = Callable[[str, bytes], object]
OPEN_ALARMS_KEY = "open_alarms"  # outbox meta: which alarms "help is coming" may still be said for
ALARM_ATTEMPTS = 3  # then the alarm is parked and retried from the tick: the worker must keep deciding
ALARM_RETRY_S = 0.2


def action_topic(gateway_id: str) -> str:
    """Local-bus topic where the home's speaker / LED / siren listen."""
    return f"anxin/home/{gateway_id}/action"


def alarm_body(alarm: Alarm, resident: str | None) -> dict[str, Any]:
    """An alarm as it travels in the uplink (anxin/protocol/bodies.py owns its shape)."""
    return protocol.AlarmBody(
        alarm.type, alarm.severity.value, alarm.change.value, alarm.device, alarm.message, dict(alarm.detail), resident
    ).to_wire()


def message_body(msg: DeviceMessage) -> tuple[str, dict[str, Any]]:
    """(lane, body) for a device message forwarded to the server."""
    if isinstance(msg, Reading):
        return "reading", protocol.ReadingBody(
            msg.device,
            msg.metric,
            dict(msg.values),
            tuple(sorted(msg.flags)),
            dict(msg.detail),
            msg.ts.isoformat() if msg.ts else None,
        ).to_wire()
    if isinstance(msg, AccelChunk):  # never sample by sample: the gateway detects falls itself
        return "reading", protocol.ReadingBody(
            msg.device, "acceleration_summary", summary(msg), (), {}, datetime.fromtimestamp(msg.t0, UTC).isoformat()
        ).to_wire()
    return "event", protocol.EventBody(msg.device, msg.kind.value, dict(msg.detail)).to_wire()


class Outlet:
    """Forward, raise an alarm, act in the home, report to the server; no I/O in the constructor.

    `sleep` waits between an alarm's storage attempts and `stopping` says the worker is stopping: the
    worker passes its loop's `wait` and `stopping`, so a stop ends a retry at once.
    """

    def __init__(
        self,
        settings: GatewaySettings,
        outbox: Outbox,
        publish_local: PublishLocal,
        wake_uplink: Callable[[], None],
        open_alarms: OpenAlarms,
        clocks: Clocks,
        counters: Counter[str],
        sleep: Callable[[float], object],
        stopping: Callable[[], bool],
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.publish_local = publish_local
        self.wake_uplink = wake_uplink
        self.open_alarms = open_alarms
        self.clocks = clocks
        self.counters = counters
        self.sleep = sleep
        self.stopping = stopping
        self.parked: list[tuple[dict[str, Any], float, float]] = []  # alarms the disk refused, oldest first
        self.on_led: Callable[[LedState], None] | None = None  # the Pi's own light, when it has one
        self._open_alarms_dirty = False

    def forward(self, msg: DeviceMessage) -> None:
        """Queue a reading or event for the server."""
        if isinstance(msg, DeviceEvent) and msg.kind.value == "unknown_device":
            self.counters["unknown_devices"] += 1
            log.warning("unknown device %r on the local bus: pair it in the gateway configuration", msg.device)
        lane, body = message_body(msg)
        try:
            self.outbox.put(lane, body, self.clocks.wall(), self.clocks.monotonic())
        except OutboxError as exc:
            self.counters["outbox_errors"] += 1
            log.error("could not store %s from %s: %s", lane, msg.device, exc)
            return
        self.wake_uplink()

    def carry_out(self, decision: Decision) -> None:
        """The rules' decision: store its alarms durably first, then act in the home — whatever the disk says."""
        for alarm in decision.alarms:
            self.raise_alarm(alarm)
        for action in decision.actions:
            self.act(action)

    def raise_alarm(self, alarm: Alarm) -> None:
        """Write the alarm to the outbox with a full fsync, then wake the uplink; park it if the disk refuses."""
        self.counters["alarms"] += 1
        body = alarm_body(alarm, self.settings.resident)
        self.parked.append((body, self.clocks.wall(), self.clocks.monotonic()))
        # Parked alarms go first: a cancel must never reach the server before the alarm it retracts.
        attempts = 1 if len(self.parked) > 1 else ALARM_ATTEMPTS
        for attempt in range(attempts):
            if attempt:
                self.sleep(ALARM_RETRY_S)
            if self.store_parked() or self.stopping():
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
            self.open_alarms.record(body, seq, self.clocks.wall())
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
            doc = {
                "v": 1,
                "action": action.kind,
                "key": action.message_key,
                "text": text,
                "lang": self.settings.language,
                "device": action.device,
                **dict(action.detail),
            }
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

    def report(self, body: dict[str, Any]) -> None:
        """Queue a gateway event (rules configuration applied or rejected, a reminder's outcome) for the server."""
        try:
            self.outbox.put("event", body, self.clocks.wall(), self.clocks.monotonic())
        except OutboxError as exc:
            self.counters["outbox_errors"] += 1
            log.error("could not store %s report: %s", body.get("kind"), exc)
            return
        self.wake_uplink()

    def load_open_alarms(self) -> None:
        """At start: the alarms raised before a restart that "help is coming" may still be said for."""
        try:
            self.open_alarms.load(self.outbox.get_meta(OPEN_ALARMS_KEY), self.clocks.wall())
        except (OutboxError, sqlite3.Error) as exc:
            log.error("could not read the open alarms: %s", exc)

    def save_open_alarms(self) -> None:
        """Persist the open alarms when they changed (called on the tick)."""
        # On the tick, not beside the alarm: this write's fsync must not hold the outbox while the
        # uplink sends the alarm. A crash within the second forgets only a spoken "help is coming".
        if not self._open_alarms_dirty:
            return
        try:
            self.outbox.set_meta(OPEN_ALARMS_KEY, self.open_alarms.dump())
            self._open_alarms_dirty = False
        except (OutboxError, sqlite3.Error) as exc:  # the alarm is stored; only the spoken ack may be missed
            log.error("could not save the open alarms: %s", exc)
