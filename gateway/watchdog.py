"""Keeps the gateway alive: restarts dead MQTT loops, and pets systemd's watchdog only while healthy.

systemd restarts the service when the pets stop (WatchdogSec in deploy/anxin-gateway.service), so a
hung worker thread is a restart, not a silent home. The notify protocol is one datagram to
$NOTIFY_SOCKET; it is written here rather than pulling in a dependency for ten lines.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from anxin.loop import Loop

log = logging.getLogger(__name__)


class Supervised(Protocol):
    """An MQTT link: can tell whether its loop runs and restart it."""

    def supervise(self) -> bool:
        """Restart a dead loop; True when it had to."""


class SystemdNotifier:
    """sd_notify(3) without libsystemd: READY, WATCHDOG, STATUS, STOPPING; a no-op outside systemd."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = env.get("NOTIFY_SOCKET") or None
        usec = env.get("WATCHDOG_USEC")
        self.watchdog_s = int(usec) / 1e6 if usec and usec.isdigit() else None

    def notify(self, state: str) -> bool:
        """Send one state string; False when not under systemd or the socket is gone."""
        if not self.address:
            return False
        addr = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(state.encode(), addr)
            return True
        except OSError as exc:
            log.warning("cannot notify systemd at %s: %s", self.address, exc)
            return False


@dataclass
class Watchdog:
    """Every `interval_s`: supervise links, check heartbeats, pet systemd if all is well."""

    notifier: SystemdNotifier
    links: list[Supervised]
    heartbeats: dict[str, Callable[[], float]]
    stale_after_s: float = 30.0
    interval_s: float = 2.0
    monotonic: Callable[[], float] = time.monotonic
    unhealthy: list[str] = field(default_factory=list)
    _loop: Loop = field(init=False)

    def __post_init__(self) -> None:
        # STOPPING=1 goes out once the stop flag is set and before the join, so no pet follows it.
        self._loop = Loop(
            "watchdog", self.check, interval_s=self.interval_s, wake=lambda: self.notifier.notify("STOPPING=1")
        )

    def check(self) -> bool:
        """One round; returns whether the gateway is healthy (and systemd was petted)."""
        for link in self.links:
            link.supervise()
        now = self.monotonic()
        self.unhealthy = [name for name, beat in self.heartbeats.items() if now - beat() > self.stale_after_s]
        if self.unhealthy:
            log.error(
                "gateway threads not responding: %s; withholding the watchdog so systemd restarts us",
                ", ".join(self.unhealthy),
            )
            return False
        self.notifier.notify("WATCHDOG=1")
        return True

    def start(self) -> None:
        """Check on a thread of our own (READY=1 is Readiness's: it waits for the home's broker)."""
        self._loop.start()

    def stop(self) -> None:
        """Tell systemd we are stopping on purpose."""
        self._loop.stop()


@dataclass
class Readiness:
    """Says once, in the log and to systemd (READY=1), that the gateway listens to the home's broker.

    A device message published before the SUBACK is not routed to the gateway; a script or systemd
    unit that waits for this line or for READY=1 loses nothing. If the broker is still unreachable
    after `give_up_after_s` the gateway declares itself ready anyway (serial devices and the SMS
    fallback work without it) so that systemd's start time-out does not restart it in a loop.
    """

    notifier: SystemdNotifier
    subscribed: threading.Event
    what: str
    give_up_after_s: float = 60.0
    monotonic: Callable[[], float] = time.monotonic
    ready: threading.Event = field(default_factory=threading.Event)
    _loop: Loop = field(init=False)

    def __post_init__(self) -> None:
        self._loop = Loop("readiness", self._wait_once)

    def wait(self) -> bool:
        """Block until subscribed (True) or given up / stopped (False); announce readiness once."""
        deadline = self.monotonic() + self.give_up_after_s
        while not self._loop.stopping:
            if self.subscribed.wait(0.2):
                log.info("ready: subscribed to %s", self.what)
                self.notifier.notify("READY=1\nSTATUS=ready: subscribed to " + self.what)
                self.ready.set()
                return True
            if self.monotonic() >= deadline:
                log.error(
                    "not subscribed to %s after %.0f s; running without it, still trying",
                    self.what,
                    self.give_up_after_s,
                )
                self.notifier.notify(f"READY=1\nSTATUS=degraded: {self.what} unreachable")
                return False
        return False

    def start(self) -> None:
        """Wait on a thread of our own."""
        self._loop.start()

    def stop(self) -> None:
        """Stop waiting (the gateway is stopping)."""
        self._loop.stop()

    def _wait_once(self) -> None:
        """The loop's only step: one wait is the whole job, so the loop ends itself after it."""
        self.wait()
        self._loop.stop()
