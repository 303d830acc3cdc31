"""A button's configured long press is a service request; an action that is also an SOS stays an SOS."""

from __future__ import annotations

import json
from datetime import datetime

from gateway.config import DeviceConfig, GpioConfig
from gateway.devices import native
from gateway.devices.zigbee2mqtt import parse_state
from gateway.home.panel import Panel
from gateway.items import DeviceMessages
from gateway.model import DeviceEvent, EventKind
from tests.unit.gateway.pi_home import LED, TZ, Home


def kinds(device: DeviceConfig, action: str) -> list[tuple[EventKind, dict]]:
    return [
        (m.kind, dict(m.detail))
        for m in parse_state(device.name, json.dumps({"action": action}).encode(), device)
        if isinstance(m, DeviceEvent)
    ]


def test_hold_is_a_service_request_with_its_category_and_single_stays_the_sos() -> None:
    button = DeviceConfig(
        name="b",
        family="zigbee2mqtt",
        model="HS1EB",
        role="sos_button",
        options={"service_actions": "hold", "service_category": "meals"},
    )
    assert kinds(button, "hold") == [(EventKind.SERVICE, {"action": "hold", "category": "meals"})]
    assert kinds(button, "single") == [(EventKind.SOS, {"action": "single"})]


def test_an_action_configured_as_both_is_an_sos() -> None:
    button = DeviceConfig(
        name="b",
        family="zigbee2mqtt",
        model="HS1EB",
        role="sos_button",
        options={"sos_actions": ["single", "hold"], "service_actions": ["hold"]},
    )
    assert [k for k, _ in kinds(button, "hold")] == [EventKind.SOS]


def test_without_configuration_a_long_press_means_nothing() -> None:
    button = DeviceConfig(name="b", family="zigbee2mqtt", model="HS1EB", role="sos_button")
    assert kinds(button, "hold") == []


def test_the_native_protocol_has_a_service_button() -> None:
    assert native._BUTTON["service"] is EventKind.SERVICE and native._BUTTON["sos"] is EventKind.SOS


def test_the_pis_wired_service_button_is_forwarded_as_a_service_request_and_raises_no_alarm(tmp_path) -> None:
    h = Home(tmp_path, datetime(2026, 3, 2, 15, 0, tzinfo=TZ))
    h.panel = Panel(
        GpioConfig(cancel_pin=None, led_pin=LED, service_pin=23, bounce_s=0),
        h.pressed.extend,
        pin_factory=h.factory,
        clock=h.clock,
    )
    h.panel.start()
    try:
        pin = h.factory.pin(23)
        pin.drive_low()
        pin.drive_high()
        assert [m.kind for m in h.pressed] == [EventKind.SERVICE]
        h.gw.process(DeviceMessages(list(h.pressed)))
        events = [e.body for e in h.outbox.pending(100) if e.lane == "event"]
        assert any(b["kind"] == "service_request" and b["device"] == "pi-service-button" for b in events)
        assert h.alarms() == []
    finally:
        h.panel.stop()
        h.outbox.close()
