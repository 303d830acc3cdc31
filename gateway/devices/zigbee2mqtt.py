"""zigbee2mqtt devices: topics and payloads exactly as zigbee2mqtt publishes them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.config import DeviceConfig
from gateway.devices import bp
from gateway.errors import ParseError
from gateway.model import DeviceEvent, DeviceMessage, EventKind, Reading

BASE = "zigbee2mqtt"
MAX_PAYLOAD = 64 * 1024


@dataclass(frozen=True, slots=True)
class Z2MModel:
    """A device model as zigbee2mqtt names it, and how its reports are read."""

    model: str
    vendor: str
    description: str
    role: str
    sos_actions: tuple[str, ...] = ()
    cancel_actions: tuple[str, ...] = ()
    ignored: frozenset[str] = frozenset()  # keys it exposes that mean nothing for care: not reported unknown


# Keys the parsers below read; anything else a known device sends is counted and reported as unknown.
READ_KEYS = frozenset(
    {
        "action",
        "sos",
        "fall_down_status",
        "status",
        "occupancy",
        "contact",
        "tamper",
        "battery_low",
        "temperature",
        "humidity",
        "pressure",
        "battery",
        "linkquality",
        "voltage",
        "systolic",
        "diastolic",
        "pulse",
        "heart_rate",
    }
)
# What zigbee2mqtt adds to every device's state (last_seen, OTA and device information options).
ZIGBEE2MQTT_KEYS = frozenset({"last_seen", "elapsed", "update", "update_available", "device"})
KNOWN_KEYS = READ_KEYS | ZIGBEE2MQTT_KEYS
# Keys the readings are made of; every other key the parsers read may be an event, so a report without any
# of those (a climate sensor's) skips _status_events.
READING_KEYS = frozenset(
    {"temperature", "humidity", "pressure", "battery", "linkquality", "voltage"}
    | {"systolic", "diastolic", "pulse", "heart_rate"}  # a Zigbee blood-pressure bridge's
)
EVENT_KEYS = READ_KEYS - READING_KEYS
XIAOMI = frozenset({"device_temperature", "power_outage_count"})

MODELS: dict[str, Z2MModel] = {
    m.model: m
    for m in (
        Z2MModel("TS0215A_sos", "Tuya", "SOS button", "sos_button", ("emergency",)),
        Z2MModel("TS0601_sos", "Tuya", "SOS button", "sos_button", ("emergency",)),
        Z2MModel("ZG-101Z", "Loginovo", "SOS button", "sos_button", ("sos",)),
        Z2MModel("HS1EB", "Heiman", "Emergency button (single/double/hold)", "sos_button", ("single",)),
        Z2MModel("SE21", "ORVIBO", "Smart emergency button", "sos_button", ("single",)),
        Z2MModel("SEB01ZB", "Feibit", "SOS button", "sos_button"),
        Z2MModel(
            "MIR-HE200-TY",
            "Tuya",
            "Human presence and fall radar",
            "fall_radar",
            ignored=frozenset({"presence", "motion_state", "radar_sensitivity"}),
        ),
        Z2MModel("FDS315", "OWON", "Fall detection sensor", "fall_radar", ignored=frozenset({"presence"})),
        Z2MModel("RTCGQ11LM", "Aqara", "Motion sensor", "motion", ignored=XIAOMI | {"illuminance", "illuminance_lux"}),
        Z2MModel("MCCGQ11LM", "Aqara", "Door and window contact", "door", ignored=XIAOMI),
        Z2MModel("WSDCGQ11LM", "Aqara", "Temperature, humidity and pressure sensor", "climate", ignored=XIAOMI),
    )
}

# OWON FDS315 `status` values and what they mean for us.
_OWON_STATUS = {
    "falling": EventKind.FALL,
    "fall": EventKind.FALL,
    "low_posture": EventKind.LOW_POSTURE,
}
_RADAR_FALL = {"fall": EventKind.FALL, "maybe_fall": EventKind.MAYBE_FALL}


def split_topic(topic: str) -> tuple[str, str | None]:
    """('bridge', 'state'), (name, None) or (name, 'availability'); raises ParseError."""
    if not topic.startswith(BASE + "/"):
        raise ParseError(f"not a zigbee2mqtt topic: {topic!r}")
    rest = topic[len(BASE) + 1 :]
    if rest.startswith("bridge/"):
        return "bridge", rest[len("bridge/") :]
    if rest.endswith("/availability"):
        return rest[: -len("/availability")], "availability"
    if rest.endswith(("/set", "/get")):
        return rest.rsplit("/", 1)[0], rest.rsplit("/", 1)[1]
    return rest, None


def _decode(payload: bytes) -> Any:
    if len(payload) > MAX_PAYLOAD:
        raise ParseError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    try:
        # orjson reads a state message several times faster; what it refuses (NaN, Infinity, huge integers,
        # lone surrogates, deep nesting) gets json's verdict, as it always did.
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:  # as native.py
        raise ParseError(f"not JSON: {exc.__class__.__name__}") from exc


def _number(doc: Mapping[str, Any], key: str) -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParseError(f"{key} is not a number: {value!r}")
    return float(value)


def parse_availability(name: str, payload: bytes) -> list[DeviceMessage]:
    """`{"state": "online"}` or the legacy plain `online` / `offline`."""
    text = payload.decode("utf-8", errors="replace").strip()
    state: Any = text
    if text.startswith("{"):
        doc = _decode(payload)
        state = doc.get("state") if isinstance(doc, dict) else None
    if state == "online":
        return [DeviceEvent(name, EventKind.DEVICE_ONLINE)]
    if state == "offline":
        return [DeviceEvent(name, EventKind.DEVICE_OFFLINE)]
    raise ParseError(f"unknown availability {text[:40]!r}")


def parse_bridge_state(payload: bytes) -> list[DeviceMessage]:
    """zigbee2mqtt/bridge/state: the bridge itself going on- or offline."""
    (event,) = parse_availability("zigbee2mqtt-bridge", payload)
    online = isinstance(event, DeviceEvent) and event.kind == EventKind.DEVICE_ONLINE
    kind = EventKind.BRIDGE_ONLINE if online else EventKind.BRIDGE_OFFLINE
    return [DeviceEvent("zigbee2mqtt-bridge", kind)]


def parse_bridge_event(payload: bytes) -> list[DeviceMessage]:
    """zigbee2mqtt/bridge/event: a device joining the network is reported so an installer can pair it."""
    doc = _decode(payload)
    if not isinstance(doc, dict) or doc.get("type") not in ("device_joined", "device_interview"):
        return []
    raw = doc.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    name = data.get("friendly_name") or data.get("ieee_address")
    if not isinstance(name, str) or not name:
        raise ParseError("bridge event without a device name")
    detail = {"family": "zigbee2mqtt", "event": doc["type"], "ieee_address": data.get("ieee_address")}
    return [DeviceEvent(name, EventKind.UNKNOWN_DEVICE, detail=detail)]


def permit_join_request(seconds: int) -> tuple[str, bytes]:
    """(topic, payload) that opens the Zigbee network for pairing for `seconds` (0 closes it)."""
    if not 0 <= seconds <= 254:
        raise ValueError("zigbee2mqtt permits joining for 0-254 s")
    return f"{BASE}/bridge/request/permit_join", json.dumps({"value": seconds > 0, "time": seconds}).encode()


def sos_actions(device: DeviceConfig) -> tuple[set[str], set[str]]:
    """Which `action` values mean SOS and cancel for this device (configuration wins over model)."""
    model = MODELS.get(device.model or "")
    sos = device.options.get("sos_actions", model.sos_actions if model else ("emergency", "sos"))
    cancel = device.options.get("cancel_actions", model.cancel_actions if model else ())
    return _as_set(sos), _as_set(cancel)


def _as_set(value: str | Iterable[str]) -> set[str]:
    """One action or several: "hold" or ["hold", "double"]."""
    return {value} if isinstance(value, str) else set(value)


def _status_events(name: str, doc: Mapping[str, Any], device: DeviceConfig) -> list[DeviceMessage]:
    if doc.keys().isdisjoint(EVENT_KEYS):  # a climate sensor's report: nothing to look at here
        return []
    out: list[DeviceMessage] = []
    action = doc.get("action")
    if action is not None:
        if not isinstance(action, str):
            raise ParseError(f"action is not a string: {action!r}")
        sos, cancel = sos_actions(device)
        if action in sos:
            out.append(DeviceEvent(name, EventKind.SOS, detail={"action": action}))
        elif action in cancel:
            out.append(DeviceEvent(name, EventKind.SOS_CANCEL, detail={"action": action}))
        elif action == device.options.get("checkin_action"):
            out.append(DeviceEvent(name, EventKind.CHECKIN, detail={"action": action}))
        elif action in _as_set(device.options.get("service_actions", ())):  # an SOS action stays an SOS (above)
            out.append(
                DeviceEvent(
                    name,
                    EventKind.SERVICE,
                    detail={"action": action, "category": str(device.options.get("service_category", "other"))},
                )
            )
    if doc.get("sos") is True:
        out.append(DeviceEvent(name, EventKind.SOS, detail={"sos": True}))
    fall = doc.get("fall_down_status")
    if isinstance(fall, str) and fall in _RADAR_FALL:
        out.append(DeviceEvent(name, _RADAR_FALL[fall], detail={"fall_down_status": fall}))
    status = doc.get("status")  # a generic key: only a fall radar's `status` is a posture
    if device.role == "fall_radar" and isinstance(status, str) and status in _OWON_STATUS:
        out.append(DeviceEvent(name, _OWON_STATUS[status], detail={"status": status}))
    occupancy = doc.get("occupancy")
    if isinstance(occupancy, bool):
        out.append(DeviceEvent(name, EventKind.MOTION if occupancy else EventKind.NO_MOTION))
    contact = doc.get("contact")
    if isinstance(contact, bool):
        out.append(DeviceEvent(name, EventKind.DOOR_CLOSED if contact else EventKind.DOOR_OPEN))
    if doc.get("tamper") is True:
        out.append(DeviceEvent(name, EventKind.TAMPER))
    if doc.get("battery_low") is True:
        out.append(DeviceEvent(name, EventKind.BATTERY_LOW))
    return out


def _blood_pressure(name: str, doc: Mapping[str, Any]) -> list[DeviceMessage]:
    """A Zigbee blood-pressure bridge's `systolic` / `diastolic` (mmHg), checked like any monitor's."""
    systolic, diastolic = _number(doc, "systolic"), _number(doc, "diastolic")
    if systolic is None or diastolic is None:
        return []
    pulse = _number(doc, "pulse")
    return [
        bp.reading(
            name, bp.BpValues(systolic, diastolic, pulse=pulse if pulse is not None else _number(doc, "heart_rate"))
        )
    ]


def unknown_keys(doc: Mapping[str, Any], device: DeviceConfig) -> list[str]:
    """Keys of a state message the gateway neither reads nor knows to ignore for this device."""
    if doc.keys() <= KNOWN_KEYS:
        return []
    model = MODELS.get(device.model or "")
    ignored = set(model.ignored if model else ()) | set(device.options.get("ignore_keys", ()))
    return sorted(k for k in doc if k not in READ_KEYS and k not in ZIGBEE2MQTT_KEYS and k not in ignored)


def _readings(name: str, doc: Mapping[str, Any]) -> list[DeviceMessage]:
    out: list[DeviceMessage] = _blood_pressure(name, doc) if "systolic" in doc or "diastolic" in doc else []
    climate = {k: v for k in ("temperature", "humidity") if (v := _number(doc, k)) is not None}
    if (pressure := _number(doc, "pressure")) is not None:
        climate["pressure_hpa"] = pressure  # zigbee2mqtt reports air pressure in hPa
    if climate:
        out.append(Reading(name, "climate", climate))
    status = {k: v for k in ("battery", "linkquality", "voltage") if (v := _number(doc, k)) is not None}
    if isinstance(doc.get("battery_low"), bool):
        status["battery_low"] = float(doc["battery_low"])  # lets supervision see the recovery too
    if status:
        out.append(Reading(name, "device_status", status))
    return out


def parse_state(name: str, payload: bytes, device: DeviceConfig) -> list[DeviceMessage]:
    """A device's state message on `zigbee2mqtt/<name>`: events first, then readings, then unknown keys."""
    doc = _decode(payload)
    if not isinstance(doc, dict):
        raise ParseError("payload is not a JSON object")
    out = _status_events(name, doc, device) + _readings(name, doc)
    if unknown := unknown_keys(doc, device):  # counted and reported (rate-limited) by the gateway
        out.append(DeviceEvent(name, EventKind.UNKNOWN_KEYS, detail={"keys": unknown}))
    return out


def parse(topic: str, payload: bytes, device: DeviceConfig | None) -> list[DeviceMessage]:
    """Any zigbee2mqtt message; an unknown device name yields UNKNOWN_DEVICE for the installer."""
    name, sub = split_topic(topic)
    if name == "bridge":
        if sub == "state":
            return parse_bridge_state(payload)
        return parse_bridge_event(payload) if sub == "event" else []
    if sub in ("set", "get"):
        return []
    if device is None:
        return [DeviceEvent(name, EventKind.UNKNOWN_DEVICE, detail={"family": "zigbee2mqtt", "topic": topic})]
    if sub == "availability":
        return parse_availability(name, payload)
    return parse_state(name, payload, device)
