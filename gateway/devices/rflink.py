"""433 MHz pendants and contacts received by an RFLink dongle: its text protocol over serial.

A received packet looks like `20;3A;EV1527;ID=0a2b3c;SWITCH=01;CMD=ON;`. Cheap transmitters send
each press several times; a repeat inside `repeat_window_s` counts once.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gateway.config import DeviceConfig
from gateway.errors import ParseError
from gateway.model import DeviceEvent, DeviceMessage, EventKind, Reading

log = logging.getLogger(__name__)

FAMILY = "rflink"
MAX_LINE = 512
# Lines the dongle sends about itself rather than about a received packet.
_STATUS_NAMES = ("OK", "PONG", "CMD UNKNOWN", "VER=", "Nodo RadioFrequencyLink", "RFDEBUG", "RFUDEBUG", "QRFDEBUG")


@dataclass(frozen=True, slots=True)
class Packet:
    """One received radio packet: protocol name and its KEY=VALUE fields (keys upper-case)."""

    protocol: str
    fields: Mapping[str, str]

    @property
    def address(self) -> tuple[str, str, str]:
        """(protocol, id, switch) normalised for matching against configuration."""
        return (
            self.protocol.lower(),
            self.fields.get("ID", "").lower().lstrip("0") or "0",
            self.fields.get("SWITCH", "").lower().lstrip("0") or "0",
        )


def parse_line(line: str) -> Packet | None:
    """A packet, or None for the dongle's own status lines; raises ParseError on malformed input."""
    line = line.strip()
    if len(line) > MAX_LINE:
        raise ParseError(f"line of {len(line)} characters")
    parts = line.split(";")
    if len(parts) < 4 or parts[0] != "20" or parts[-1] != "":
        raise ParseError(f"not an RFLink packet line: {line[:60]!r}")
    if len(parts[1]) != 2 or any(c not in "0123456789abcdefABCDEF" for c in parts[1]):
        raise ParseError(f"bad packet counter {parts[1]!r}")
    name = parts[2]
    if not name or any(name.startswith(s) for s in _STATUS_NAMES):
        return None
    fields: dict[str, str] = {}
    for item in parts[3:-1]:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ParseError(f"field {item[:30]!r} is not KEY=VALUE")
        fields[key.upper()] = value
    if "ID" not in fields:
        return None  # a packet with no sender id (e.g. a debug dump) cannot be tied to a device
    return Packet(name, fields)


def config_address(device: DeviceConfig) -> tuple[str, str, str]:
    """(protocol, id, switch) of a configured RFLink device, normalised like Packet.address."""
    o = device.options
    switch = "*" if o.get("switch") is None else (str(o["switch"]).lower().lstrip("0") or "0")
    return (str(o.get("protocol", "")).lower(), str(o.get("id", "")).lower().lstrip("0") or "0", switch)


def find_device(devices: Mapping[tuple[str, str, str], DeviceConfig], packet: Packet) -> DeviceConfig | None:
    """The configured device a packet comes from; a device configured without a switch matches any."""
    proto, ident, switch = packet.address
    return devices.get((proto, ident, switch)) or devices.get((proto, ident, "*"))


def _temperature(raw: str) -> float:
    value = int(raw, 16)
    return -(value & 0x7FFF) / 10 if value & 0x8000 else value / 10  # sign bit, tenths of a degree


def to_messages(packet: Packet, device: DeviceConfig | None) -> list[DeviceMessage]:
    """Typed messages for a packet from `device` (None: unknown, reported for pairing)."""
    if device is None:
        proto, ident, switch = packet.protocol, packet.fields.get("ID", ""), packet.fields.get("SWITCH", "")
        return [
            DeviceEvent(
                f"rflink:{proto}:{ident}:{switch}",
                EventKind.UNKNOWN_DEVICE,
                detail={"family": FAMILY, "protocol": proto, "id": ident, "switch": switch},
            )
        ]
    out: list[DeviceMessage] = []
    cmd = packet.fields.get("CMD", "").upper()
    if cmd:
        on = cmd in ("ON", "ALLON")
        if device.role == "sos_button" and on:
            out.append(DeviceEvent(device.name, EventKind.SOS, detail={"cmd": cmd}))
        elif device.role == "door":
            is_open = on == (str(device.options.get("open_cmd", "ON")).upper() == "ON")
            out.append(DeviceEvent(device.name, EventKind.DOOR_OPEN if is_open else EventKind.DOOR_CLOSED))
        elif device.role == "motion" and on:
            out.append(DeviceEvent(device.name, EventKind.MOTION))
    if packet.fields.get("BAT", "").upper() == "LOW":
        out.append(DeviceEvent(device.name, EventKind.BATTERY_LOW))
    try:
        climate = {}
        if "TEMP" in packet.fields:
            climate["temperature"] = _temperature(packet.fields["TEMP"])
        if "HUM" in packet.fields:
            climate["humidity"] = float(int(packet.fields["HUM"]))
    except ValueError as exc:
        raise ParseError(f"bad climate field in {dict(packet.fields)}") from exc
    if climate:
        out.append(Reading(device.name, "climate", climate))
    return out


class LineFramer:
    """Bytes -> text lines ending in LF (CR stripped); over-long lines are dropped and counted."""

    def __init__(self) -> None:
        self.counters: Counter[str] = Counter()
        self._buf = bytearray()
        self._overflow = False

    def reset(self) -> None:
        """Forget a partial line."""
        self._buf.clear()
        self._overflow = False

    def feed(self, data: bytes) -> list[str]:
        """Every complete line in the new bytes."""
        lines: list[str] = []
        for chunk in data.splitlines(keepends=True):
            if self._overflow or len(self._buf) + len(chunk) > MAX_LINE + 2:
                self._overflow = True
            else:
                self._buf.extend(chunk)
            if chunk.endswith((b"\n", b"\r")):
                if self._overflow:
                    self.counters["oversized_lines"] += 1
                elif self._buf.strip():
                    lines.append(self._buf.decode("ascii", errors="replace").strip())
                self.reset()
        return lines


class RflinkStream:
    """The byte stream of one RFLink dongle -> typed messages, with repeats suppressed (time injected)."""

    def __init__(self, devices: Iterable[DeviceConfig], repeat_window_s: float = 3.0) -> None:
        self.devices = {config_address(d): d for d in devices if d.family == FAMILY}
        self.repeat_window_s = repeat_window_s
        self.framer = LineFramer()
        self.counters: Counter[str] = Counter()
        self._last: dict[tuple[str, ...], float] = {}

    def reset(self) -> None:
        """The port went away: a half-received line is dropped."""
        self.framer.reset()

    def feed(self, data: bytes, now: float) -> list[DeviceMessage]:
        """Typed messages completed by these bytes; repeats and damage are counted, never raised."""
        out: list[DeviceMessage] = []
        for line in self.framer.feed(data):
            try:
                packet = parse_line(line)
                if packet is None:
                    self.counters["status_lines"] += 1
                    continue
                key = (*packet.address, packet.fields.get("CMD", ""), packet.fields.get("BAT", ""))
                last = self._last.get(key)
                self._last[key] = now
                if last is not None and now - last < self.repeat_window_s:
                    self.counters["repeats"] += 1
                    continue
                out.extend(to_messages(packet, find_device(self.devices, packet)))
                self.counters["packets"] += 1
            except ParseError as exc:
                self.counters["parse_errors"] += 1
                log.warning("%s: rejected line %r: %s", FAMILY, line[:80], exc)
        if len(self._last) > 1024:  # forget old senders so a noisy street cannot grow memory
            self._last = {k: t for k, t in self._last.items() if now - t < self.repeat_window_s}
        return out
