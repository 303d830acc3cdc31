"""Bluetooth health devices other than the blood-pressure monitor, behind a BLE-to-UART bridge: each SLIP
frame carries the characteristic's 16-bit UUID (little-endian) before its value, so one bridge can relay a
meter that sends two characteristics (glucose measurement and its context). Devices are data: the table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from zoneinfo import ZoneInfo

from gateway.devices import ble_bpm, glucose, plx, scale, thermometer
from gateway.errors import ParseError
from gateway.model import DeviceMessage, Reading

FAMILY = "ble-gatt"

Decoder = Callable[[str, bytes, tzinfo], Reading]

# characteristic UUID -> (decode format name, decoder)
CHARACTERISTICS: dict[int, tuple[str, Decoder]] = {
    glucose.MEASUREMENT: ("ble-glucose", glucose.measurement),
    glucose.CONTEXT: ("ble-glucose-context", lambda device, value, _tz: glucose.context(device, value)),
    plx.SPOT_CHECK: ("ble-plx-spot", plx.spot_check),
    plx.CONTINUOUS: ("ble-plx-continuous", lambda device, value, _tz: plx.continuous(device, value)),
    scale.MEASUREMENT: ("ble-weight", scale.measurement),
    thermometer.MEASUREMENT: ("ble-temperature", thermometer.measurement),
}
FORMATS: dict[str, int] = {name: uuid for uuid, (name, _) in CHARACTERISTICS.items()}


def decode_value(fmt: str, device: str, value: bytes, tz: tzinfo = ZoneInfo("UTC")) -> list[DeviceMessage]:
    """The checked reading in one characteristic value of a named format; raises ParseError."""
    return [CHARACTERISTICS[FORMATS[fmt]][1](device, value, tz)]


def decode_frame(device: str, frame: bytes, tz: tzinfo) -> list[DeviceMessage]:
    """One bridge frame's value (UUID, then the characteristic value) -> the reading; raises ParseError."""
    if len(frame) < 3:
        raise ParseError(f"frame value of {len(frame)} bytes has no room for a UUID and a value")
    uuid = int.from_bytes(frame[:2], "little")
    if uuid == ble_bpm.CHARACTERISTIC:
        return ble_bpm.decode_value(device, frame[2:], tz)
    if uuid not in CHARACTERISTICS:
        raise ParseError(f"characteristic 0x{uuid:04X} is not one the gateway reads")
    return [CHARACTERISTICS[uuid][1](device, frame[2:], tz)]


def stream(device: str, tz: tzinfo = ZoneInfo("UTC")) -> ble_bpm.BpmStream:
    """The decoder for one bridge's byte stream: SLIP, CRC, UUID, value; damage counted, never raised."""
    return ble_bpm.BpmStream(device, tz, decode_frame, FAMILY)
