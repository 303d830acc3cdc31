"""A button's configured long press is a service request; an action that is also an SOS stays an SOS."""

from __future__ import annotations

import json

from gateway.config import DeviceConfig
from gateway.devices import native
from gateway.devices.zigbee2mqtt import parse_state
from gateway.model import DeviceEvent, EventKind


def kinds(device: DeviceConfig, action: str) -> list[tuple[EventKind, dict]]:
    return [(m.kind, dict(m.detail)) for m in parse_state(device.name, json.dumps({"action": action}).encode(), device)
            if isinstance(m, DeviceEvent)]


def test_hold_is_a_service_request_with_its_category_and_single_stays_the_sos() -> None:
    button = DeviceConfig(name="b", family="zigbee2mqtt", model="HS1EB", role="sos_button",
                          options={"service_actions": "hold", "service_category": "meals"})
    assert kinds(button, "hold") == [(EventKind.SERVICE, {"action": "hold", "category": "meals"})]
    assert kinds(button, "single") == [(EventKind.SOS, {"action": "single"})]


def test_an_action_configured_as_both_is_an_sos() -> None:
    button = DeviceConfig(name="b", family="zigbee2mqtt", model="HS1EB", role="sos_button",
                          options={"sos_actions": ["single", "hold"], "service_actions": ["hold"]})
    assert [k for k, _ in kinds(button, "hold")] == [EventKind.SOS]


def test_without_configuration_a_long_press_means_nothing() -> None:
    button = DeviceConfig(name="b", family="zigbee2mqtt", model="HS1EB", role="sos_button")
    assert kinds(button, "hold") == []


def test_the_native_protocol_has_a_service_button() -> None:
    assert native._BUTTON["service"] is EventKind.SERVICE and native._BUTTON["sos"] is EventKind.SOS
