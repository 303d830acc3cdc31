"""A serial port read in its own thread with pyserial; reopened with backoff when it vanishes."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import serial

from anxin.loop import Loop

log = logging.getLogger(__name__)

Opener = Callable[..., Any]
OnBytes = Callable[[bytes], None]
OnState = Callable[[bool], None]


@dataclass(slots=True)
class SerialStats:
    """Counters for health pages and tests."""

    opens: int = 0
    open_failures: int = 0
    losses: int = 0
    bytes: int = 0
    handler_errors: int = 0


class SerialTransport:
    """Reads one port and hands every chunk of bytes to `on_bytes`; `on_state` hears open/lost."""

    def __init__(
        self,
        url: str,
        baudrate: int,
        on_bytes: OnBytes,
        on_state: OnState = lambda up: None,
        opener: Opener = serial.serial_for_url,
        min_backoff: float = 0.2,
        max_backoff: float = 10.0,
    ) -> None:
        self.url = url
        self.baudrate = baudrate
        self.on_bytes = on_bytes
        self.on_state = on_state
        self.opener = opener
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.stats = SerialStats()
        self.connected = threading.Event()
        self._port: Any = None
        self._backoff = min_backoff
        self._reported_down = False
        self._loop = Loop(f"serial {url}", self._step)

    def start(self) -> None:
        """Open and read in the background."""
        self._loop.start()

    def stop(self) -> None:
        """Close the port and end the thread."""
        self._loop.stop()

    def _step(self) -> None:
        """Open the port (or wait out the backoff when it cannot be had) and read it until it is lost."""
        try:
            self._port = self.opener(self.url, baudrate=self.baudrate, timeout=0.2)
        except Exception as exc:  # port boundary: whatever the driver raises, the port is not open (backoff)
            self.stats.open_failures += 1
            if not self._reported_down:
                log.warning("cannot open %s: %s; retrying with backoff", self.url, exc)
                self._state(False)
                self._reported_down = True
            self._back_off()
            return
        self.stats.opens += 1
        self._reported_down = False  # the backoff resets only once the port delivers bytes (_read_until_lost)
        log.info("opened %s", self.url)
        self.connected.set()
        self._state(True)
        try:
            lost = self._read_until_lost()
        finally:  # the port is closed however the step ends, as the thread used to on its way out
            self.connected.clear()
            self._close()
        if lost:
            self.stats.losses += 1
            self._state(False)
            self._reported_down = True
            self._back_off()  # a port that opens and fails at once must not be reopened back to back

    def _back_off(self) -> None:
        self._loop.wait(self._backoff)
        self._backoff = min(self._backoff * 2, self.max_backoff)

    def _read_until_lost(self) -> bool:
        """Read until stopped (False) or the port fails (True)."""
        while not self._loop.stopping:
            try:
                data = self._port.read(max(1, self._port.in_waiting))
            except Exception as exc:  # port boundary: unplugged, or a driver's own error (termios.error): lost
                log.warning("lost %s: %s", self.url, exc)
                return True
            if data:
                self._backoff = self.min_backoff  # a port that delivers is healthy again
                self.stats.bytes += len(data)
                try:
                    self.on_bytes(data)
                except Exception:  # supervisor boundary: a handler bug must not stop the port
                    self.stats.handler_errors += 1
                    log.exception("handler failed on bytes from %s", self.url)
        return False

    def _state(self, up: bool) -> None:
        try:
            self.on_state(up)
        except Exception:  # supervisor boundary, as above
            self.stats.handler_errors += 1
            log.exception("state handler failed for %s", self.url)

    def _close(self) -> None:
        if self._port is not None:
            with contextlib.suppress(serial.SerialException, OSError):  # a port that vanished is gone either way
                self._port.close()
            self._port = None
