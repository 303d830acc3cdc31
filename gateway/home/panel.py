"""The Pi's own button(s) and status light through gpiozero: presses in, light states out."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from anxin.loop import Loop
from gateway.config import GpioConfig
from gateway.errors import GatewayError
from gateway.home import led
from gateway.model import DeviceEvent, DeviceMessage, EventKind, LedState

log = logging.getLogger(__name__)

CANCEL_DEVICE = "pi-cancel-button"
SOS_DEVICE = "pi-sos-button"
SERVICE_DEVICE = "pi-service-button"
REFRESH_S = 1.0


class PanelError(GatewayError):
    """The Pi's button and light cannot be used (no GPIO, a pin taken, no permission)."""


class Panel:
    """Owns the gpiozero devices; start() opens the pins (a MockFactory in tests), stop() frees them."""

    def __init__(
        self,
        cfg: GpioConfig,
        emit: Callable[[list[DeviceMessage]], None],
        online: Callable[[], bool] = lambda: True,
        pin_factory: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cfg = cfg
        self.emit = emit
        self.online = online
        self.pin_factory = pin_factory
        self.clock = clock
        self.light = led.Light()
        self.showing: LedState | None = None
        self._devices: list[Any] = []
        self._led: Any = None
        self._lock = threading.Lock()
        self._loop = Loop("panel", self.refresh, interval_s=REFRESH_S)  # a failing light never stops the buttons

    def start(self) -> None:
        """Open the configured pins and keep the light up to date; raises PanelError when the pins cannot be had."""
        from gpiozero import LED, Button, GPIOZeroError  # here: a gateway without `gpio:` never imports it

        bounce = self.cfg.bounce_s or None
        try:
            for pin, handler in (
                (self.cfg.cancel_pin, self.cancel_pressed),
                (self.cfg.sos_pin, self.sos_pressed),
                (self.cfg.service_pin, self.service_pressed),
            ):
                if pin is not None:
                    button = Button(pin, pull_up=True, bounce_time=bounce, pin_factory=self.pin_factory)
                    button.when_pressed = handler
                    self._devices.append(button)
            if self.cfg.led_pin is not None:
                self._led = LED(self.cfg.led_pin, pin_factory=self.pin_factory)
                self._devices.append(self._led)
        except (GPIOZeroError, OSError, RuntimeError) as exc:  # no GPIO here, a pin taken, no permission
            self.stop()
            raise PanelError(f"cannot open the Pi's pins: {exc}") from exc
        self.refresh()
        self._loop.start()
        log.info(
            "Pi panel on BCM pins: cancel %s, SOS %s, LED %s", self.cfg.cancel_pin, self.cfg.sos_pin, self.cfg.led_pin
        )

    def stop(self) -> None:
        """Turn the light off and free the pins."""
        self._loop.stop()
        for device in self._devices:
            device.close()
        self._devices.clear()

    def cancel_pressed(self) -> None:
        """The big button: "cancel / I'm fine" (gpiozero's thread; the gateway worker decides)."""
        self._press(CANCEL_DEVICE, EventKind.FINE)

    def sos_pressed(self) -> None:
        """The wired SOS button."""
        self._press(SOS_DEVICE, EventKind.SOS)

    def service_pressed(self) -> None:
        """The wired "service" button: please call me about a service (a request at the desk, not an alarm)."""
        self._press(SERVICE_DEVICE, EventKind.SERVICE)

    def show(self, state: LedState) -> None:
        """An `led` action from the rules."""
        with self._lock:
            self.light = led.ask(self.light, state, self.clock())
        self.refresh()

    def refresh(self) -> None:
        """Put the light in the state it should show now."""
        with self._lock:
            now = self.clock()
            self.light = led.uplink(self.light, self.online(), now)
            state = led.shown(self.light, now, self.cfg.offline_after_s)
            if state == self.showing or self._led is None:
                self.showing = state
                return
            self.showing = state
            pattern = led.PATTERNS.get(state)
            if state == LedState.OFF:
                self._led.off()
            elif pattern is None:
                self._led.on()
            else:
                self._led.blink(on_time=pattern[0], off_time=pattern[1])

    def _press(self, device: str, kind: EventKind) -> None:
        log.info("Pi button %s pressed", device)
        self.emit([DeviceEvent(device, kind, datetime.fromtimestamp(self.clock(), UTC), {"button": "gpio"})])
