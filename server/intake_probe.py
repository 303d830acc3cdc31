"""The server checks its own intake: a message to itself through the broker, every few seconds.

A connection can look alive and carry nothing: a broker that handed our client id to someone else
may keep our socket open and route nothing to it. Then no alarm is stored, no ack goes out, and
nothing says so. The probe notices within seconds, reconnects, and reports the intake unhealthy
on /api/v1/health and /metrics until a probe comes back.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from anxin.loop import Loop
from anxin.mqtt import MqttError

log = logging.getLogger(__name__)

PROBE_PREFIX = "anxin/v1/server/probe"


def probe_topic(client_id: str) -> str:
    """Where one server process talks to itself."""
    return f"{PROBE_PREFIX}/{client_id}"


@dataclass
class IntakeProbe:
    """Publishes a probe every `interval_s`; no probe back for `dead_after_s` means the intake is dead."""

    topic: str
    publish: Callable[[str, bytes, int], object]
    reconnect: Callable[[], None]
    interval_s: float = 3.0
    dead_after_s: float = 10.0
    monotonic: Callable[[], float] = time.monotonic
    reconnects: int = 0
    _sent: int = 0
    _last_back: float | None = None
    _started: float = 0.0
    _last_reconnect: float = 0.0
    _task: Loop | None = None

    @property
    def healthy(self) -> bool:
        """Whether a probe came back recently (or the probe has just started)."""
        now = self.monotonic()
        since = self._last_back if self._last_back is not None else self._started
        return now - since < self.dead_after_s

    def seconds_silent(self) -> float:
        """How long since the last probe came back."""
        since = self._last_back if self._last_back is not None else self._started
        return max(0.0, self.monotonic() - since)

    def on_message(self, topic: str, _payload: bytes) -> bool:
        """From the MQTT edge: True when this was our probe (it is not an uplink message)."""
        if topic != self.topic:
            return False
        if not self.healthy:
            log.warning("intake is alive again: a probe came back through the broker")
        self._last_back = self.monotonic()
        return True

    def check(self) -> None:
        """Send one probe; reconnect when none came back for too long (at most once per `dead_after_s`)."""
        now = self.monotonic()
        self._sent += 1
        with contextlib.suppress(
            MqttError
        ):  # the link is down: paho reconnects by itself, no probe comes back meanwhile
            self.publish(self.topic, str(self._sent).encode(), 0)
        if not self.healthy and now - self._last_reconnect >= self.dead_after_s:
            self._last_reconnect = now
            self.reconnects += 1
            log.error(
                "INTAKE DEAD: no probe came back through the broker for %.0f s; reconnecting", self.seconds_silent()
            )
            self.reconnect()

    def start(self) -> None:
        """Probe on its own thread."""
        self._started = self._last_reconnect = self.monotonic()
        self._task = Loop("intake-probe", self.check, interval_s=self.interval_s)
        self._task.start()

    def stop(self) -> None:
        """Stop probing."""
        if self._task:
            self._task.stop()
