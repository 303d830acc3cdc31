"""`anxin-gateway decode`: what a device sends, decoded by the gateway's own parsers, one JSON a line."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from gateway.config import DeviceConfig, GatewaySettings
from gateway.devices import ble_bpm, ble_gatt, native, rflink, zigbee2mqtt
from gateway.devices.router import device_name
from gateway.errors import ParseError
from gateway.model import AccelChunk, DeviceEvent, DeviceMessage, EventKind, Reading

FORMATS = ("zigbee2mqtt", "native", "ble-bpm", "rflink", *ble_gatt.FORMATS)


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat() if ts else None


def message_json(msg: DeviceMessage) -> dict[str, Any]:
    """A typed message as JSON: SI / mmHg units, ISO 8601 times."""
    if isinstance(msg, Reading):
        return {
            "type": "reading",
            "device": msg.device,
            "metric": msg.metric,
            "values": dict(msg.values),
            "flags": sorted(msg.flags),
            "measured_at": _iso(msg.ts),
            "detail": dict(msg.detail),
        }
    if isinstance(msg, AccelChunk):
        return {
            "type": "accel",
            "device": msg.device,
            "t0": _iso(datetime.fromtimestamp(msg.t0, UTC)),
            "rate_hz": msg.rate_hz,
            "unit": "g",
            "samples": [[round(c, 5) for c in s] for s in msg.samples],
        }
    assert isinstance(msg, DeviceEvent)
    if msg.kind == EventKind.UNKNOWN_KEYS:  # what the gateway counts and otherwise ignores
        return {
            "type": "ignored",
            "device": msg.device,
            "keys": list(msg.detail.get("keys", [])),
            "info": "keys the gateway does not understand for this device: counted and reported, not forwarded",
        }
    return {
        "type": "event",
        "device": msg.device,
        "kind": msg.kind.value,
        "ts": _iso(msg.ts),
        "detail": dict(msg.detail),
    }


class Decoder:
    """Decodes one input line of a format; devices not in the configuration are treated as known."""

    def __init__(
        self,
        fmt: str,
        settings: GatewaySettings | None = None,
        timezone_name: str = "Asia/Shanghai",
        role: str | None = None,
        model: str | None = None,
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}")
        self.fmt = fmt
        self.settings = settings
        self.tz = ZoneInfo(settings.timezone if settings else timezone_name)
        known = zigbee2mqtt.MODELS.get(model or "")
        self.model = model
        self.role = role or (known.role if known else "sos_button")

    def _device(self, name: str) -> DeviceConfig | None:
        if self.settings is not None:
            return self.settings.device(name)
        return DeviceConfig(name=name, family=self.fmt, role=self.role, model=self.model)

    def decode(self, line: str) -> list[DeviceMessage]:
        """Typed messages for one line; raises ParseError for input the gateway rejects."""
        line = line.strip()
        if self.fmt in ("zigbee2mqtt", "native"):
            topic, _, payload = line.partition(" ")
            parser = zigbee2mqtt.parse if self.fmt == "zigbee2mqtt" else native.parse
            return parser(topic, payload.strip().encode(), self._device(device_name(topic)))
        if self.fmt.startswith("ble-"):
            try:
                value = bytes.fromhex(line.replace(":", "").replace(" ", ""))
            except ValueError as exc:
                raise ParseError("not hexadecimal") from exc
            if self.fmt == "ble-bpm":
                return ble_bpm.decode_value("ble-bpm", value, self.tz)
            return ble_gatt.decode_value(self.fmt, self.fmt, value, self.tz)
        packet = rflink.parse_line(line)
        if packet is None:
            return []
        devices = {
            rflink.config_address(d): d
            for d in (self.settings.devices if self.settings else [])
            if d.family == "rflink"
        }
        return rflink.to_messages(packet, rflink.find_device(devices, packet))


def run(decoder: Decoder, lines: Iterable[str], out: TextIO) -> int:
    """Decode every non-empty line; returns how many were rejected."""
    rejected = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            msgs = decoder.decode(line)
        except ParseError as exc:
            rejected += 1
            out.write(json.dumps({"error": str(exc)}, ensure_ascii=False) + "\n")
            continue
        if not msgs:
            out.write(json.dumps({"info": "understood; nothing to report"}) + "\n")
        for msg in msgs:
            out.write(json.dumps(message_json(msg), ensure_ascii=False) + "\n")
    return rejected
