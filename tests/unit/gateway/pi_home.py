"""A home with the Pi's own button and light (gpiozero mock pins) in front of a gateway worker driven directly."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from gpiozero.pins.mock import MockFactory

from gateway.config import DeviceConfig, GatewaySettings, GpioConfig
from gateway.devices.router import Router
from gateway.home.panel import Panel
from gateway.items import BridgeChange, DeviceMessages, Tick
from gateway.model import DeviceMessage
from gateway.outbox import Outbox
from gateway.outbox_db import connect
from gateway.rules.defaults import build_engine
from gateway.service import Gateway
from tests.unit.gateway.worker import Clock

TZ = ZoneInfo("Asia/Shanghai")
CANCEL, LED = 17, 27


class Home:
    """A gateway worker driven synchronously, with the Pi's panel on mock pins."""

    def __init__(self, tmp_path: Path, start: datetime) -> None:
        self.settings = GatewaySettings(
            gateway_id="gw-pi",
            resident="R001",
            data_dir=tmp_path,
            devices=[DeviceConfig(name="radar", family="zigbee2mqtt", role="fall_sensor", model="FDS315")],
        )
        self.outbox = Outbox(connect(self.settings.outbox_path))
        self.clock = Clock(start.timestamp())
        self.published: list[dict] = []
        self.gw = Gateway(
            self.settings,
            Router(self.settings),
            build_engine({}, "Asia/Shanghai", "R001"),
            self.outbox,
            publish_local=lambda t, p: self.published.append(json.loads(p)),
            wake_uplink=lambda: None,
            clock=self.clock,
            monotonic=self.clock,
            sleep=lambda s: None,
        )
        self.pressed: list[DeviceMessage] = []
        self.factory = MockFactory()
        self.up = True
        self.panel = Panel(
            GpioConfig(cancel_pin=CANCEL, led_pin=LED, bounce_s=0),
            self.pressed.extend,
            online=lambda: self.up,
            pin_factory=self.factory,
            clock=self.clock,
        )
        self.gw.outlet.on_led = self.panel.show
        self.gw.rules.restore()
        self.gw.process(BridgeChange("local-broker", True))  # the home's broker is up

    def press_cancel(self) -> None:
        """A finger on the big button: the pin goes low, gpiozero calls back, the worker handles it."""
        pin = self.factory.pin(CANCEL)
        pin.drive_low()
        pin.drive_high()
        msgs, self.pressed[:] = list(self.pressed), []
        assert msgs, "the press did not reach the gateway"
        self.gw.process(DeviceMessages(msgs))

    def tick(self, seconds: float) -> None:
        self.clock.now += seconds
        self.gw.process(Tick())

    def said(self) -> list[str]:
        return [a["key"] for a in self.published if a["action"] == "say"]

    def alarms(self) -> list[tuple[str, str]]:
        return [(e.body["type"], e.body["change"]) for e in self.outbox.pending(1000) if e.lane == "alarm"]
