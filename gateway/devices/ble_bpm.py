"""Bluetooth blood-pressure monitors: the Blood Pressure Measurement characteristic (0x2A35), as a
BLE-to-UART bridge relays it — one value per SLIP frame, followed by its CRC-16/CCITT-FALSE."""

from __future__ import annotations

import logging
import math
import struct
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from gateway.devices import bp, slip
from gateway.errors import FrameError, ImplausibleReading, ParseError
from gateway.model import DeviceMessage

log = logging.getLogger(__name__)

FAMILY = "ble-bpm"
CHARACTERISTIC = 0x2A35

# IEEE 11073-20601 SFLOAT special values, by their 12-bit mantissa.
SPECIAL = {0x07FF: "NaN", 0x0800: "NRes", 0x07FE: "+INF", 0x0802: "-INF", 0x0801: "reserved"}
_SPECIAL_FLOAT = {"+INF": math.inf, "-INF": -math.inf}

FLAG_KPA, FLAG_TIME, FLAG_PULSE, FLAG_USER, FLAG_STATUS = 0x01, 0x02, 0x04, 0x08, 0x10

_STATUS_BITS = {0: "body_movement", 1: "cuff_too_loose", 2: "irregular_pulse", 5: "improper_position"}
_PULSE_RANGE = {1: "pulse_rate_high", 2: "pulse_rate_low"}


@dataclass(frozen=True, slots=True)
class SFloat:
    """A decoded IEEE-11073 16-bit SFLOAT: a number, or the name of a special value."""

    value: float
    special: str | None = None

    @property
    def is_number(self) -> bool:
        """True for an ordinary finite value."""
        return self.special is None


def ieee11073(raw: int, mantissa_bits: int, exponent_bits: int, special: Mapping[int, str]) -> SFloat:
    """Decode an IEEE-11073 number: a signed exponent (base 10) over a signed mantissa, with the
    special values named by their mantissa (SFLOAT 4+12 bits, FLOAT 8+24 bits)."""
    mantissa = raw & ((1 << mantissa_bits) - 1)
    if mantissa in special:
        name = special[mantissa]
        return SFloat(_SPECIAL_FLOAT.get(name, math.nan), name)
    exponent = (raw >> mantissa_bits) & ((1 << exponent_bits) - 1)
    if exponent >= 1 << (exponent_bits - 1):
        exponent -= 1 << exponent_bits
    if mantissa >= 1 << (mantissa_bits - 1):
        mantissa -= 1 << mantissa_bits
    return SFloat(round(mantissa * 10.0**exponent, max(0, -exponent)))


def sfloat(raw: int) -> SFloat:
    """Decode a 16-bit SFLOAT: 4-bit signed exponent, 12-bit signed mantissa."""
    return ieee11073(raw, 12, 4, SPECIAL)


@dataclass(frozen=True, slots=True)
class Measurement:
    """Every field of one Blood Pressure Measurement value, as the monitor sent it."""

    unit: str
    systolic: SFloat
    diastolic: SFloat
    map: SFloat
    measured_at: datetime | None
    time_unknown: bool
    pulse: SFloat | None
    user_id: int | None
    status: int | None


def date_time(raw: bytes, tz: tzinfo) -> datetime | None:
    """The 7-byte Date Time characteristic format read in `tz`; None for its "unknown" zeros."""
    year, month, day, hour, minute, second = struct.unpack("<HBBBBB", raw)
    if year == 0 or month == 0 or day == 0:
        return None  # the characteristic's "unknown" zeros
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError as exc:
        raise ParseError(f"invalid date-time {year}-{month}-{day} {hour}:{minute}:{second}") from exc


def parse_value(value: bytes, tz: tzinfo = ZoneInfo("UTC")) -> Measurement:
    """Decode one characteristic value; the monitor's clock is read in `tz`. Raises ParseError."""
    if len(value) < 7:
        raise ParseError(f"value of {len(value)} bytes is shorter than the 7 mandatory bytes")
    flags = value[0]
    sys_raw, dia_raw, map_raw = struct.unpack_from("<HHH", value, 1)
    pos, ts, time_unknown, pulse, user, status = 7, None, False, None, None, None
    need = (
        7
        + 7 * bool(flags & FLAG_TIME)
        + 2 * bool(flags & FLAG_PULSE)
        + bool(flags & FLAG_USER)
        + 2 * bool(flags & FLAG_STATUS)
    )
    if len(value) != need:
        raise ParseError(f"flags 0x{flags:02x} announce {need} bytes, the value has {len(value)}")
    if flags & FLAG_TIME:
        ts = date_time(value[pos : pos + 7], tz)
        time_unknown, pos = ts is None, pos + 7
    if flags & FLAG_PULSE:
        pulse, pos = sfloat(int.from_bytes(value[pos : pos + 2], "little")), pos + 2
    if flags & FLAG_USER:
        user, pos = value[pos], pos + 1
    if flags & FLAG_STATUS:
        status = int.from_bytes(value[pos : pos + 2], "little")
    return Measurement(
        "kPa" if flags & FLAG_KPA else "mmHg",
        sfloat(sys_raw),
        sfloat(dia_raw),
        sfloat(map_raw),
        ts,
        time_unknown,
        pulse,
        user,
        status,
    )


def quality_flags(status: int | None) -> frozenset[str]:
    """The measurement-status bits as the quality flags that travel with the reading."""
    if not status:
        return frozenset()
    flags = {name for bit, name in _STATUS_BITS.items() if status & (1 << bit)}
    if (rng := (status >> 3) & 0x03) in _PULSE_RANGE:
        flags.add(_PULSE_RANGE[rng])
    return frozenset(flags)


def _pressure(name: str, v: SFloat, unit: str) -> float:
    if not v.is_number:
        raise ImplausibleReading(f"{name} is {v.special}")
    return v.value * bp.KPA_TO_MMHG if unit == "kPa" else v.value


def to_values(m: Measurement) -> bp.BpValues:
    """The measurement in mmHg with its quality flags; raises ImplausibleReading for special values."""
    mean = _pressure("mean arterial pressure", m.map, m.unit) if m.map.is_number else None
    pulse = None
    if m.pulse is not None and m.pulse.special not in ("NaN", "NRes"):
        if not m.pulse.is_number:
            raise ImplausibleReading(f"pulse is {m.pulse.special}")
        pulse = m.pulse.value
    detail: dict[str, object] = {"source_unit": m.unit}
    if m.user_id is not None:
        detail["user_id"] = None if m.user_id == 0xFF else m.user_id
    if m.time_unknown:
        detail["time"] = "unknown"
    return bp.BpValues(
        _pressure("systolic", m.systolic, m.unit),
        _pressure("diastolic", m.diastolic, m.unit),
        mean,
        pulse,
        m.measured_at,
        quality_flags(m.status),
        detail,
    )


def decode_value(device: str, value: bytes, tz: tzinfo = ZoneInfo("UTC")) -> list[DeviceMessage]:
    """The checked blood-pressure reading in one characteristic value; raises ParseError."""
    return [bp.reading(device, to_values(parse_value(value, tz)))]


ValueDecoder = Callable[[str, bytes, tzinfo], list[DeviceMessage]]


class BpmStream:
    """A serial byte stream from one bridge -> readings; damage is counted, never raised.

    `decode` turns one frame's value into messages: a blood-pressure value by default, another family's
    frame (gateway/devices/ble_gatt.py) otherwise."""

    def __init__(
        self, device: str, tz: tzinfo = ZoneInfo("UTC"), decode: ValueDecoder = decode_value, family: str = FAMILY
    ) -> None:
        self.device = device
        self.tz = tz
        self.decode = decode
        self.family = family
        self.framer = slip.SlipFramer()
        self.counters: Counter[str] = Counter()
        self.last_error: str | None = None

    def reset(self) -> None:
        """The port went away: a half-received frame is dropped."""
        self.framer.reset()

    def feed(self, data: bytes, now: float = 0.0) -> list[DeviceMessage]:
        """Readings completed by these bytes, in order (`now` is unused: frames carry their own time)."""
        out: list[DeviceMessage] = []
        for frame in self.framer.feed(data):
            try:
                value = slip.check_crc(frame)
                out.extend(self.decode(self.device, value, self.tz))
                self.counters["readings"] += 1
            except FrameError as exc:
                self._reject("bad_frames", exc)
            except ImplausibleReading as exc:
                self._reject("implausible_readings", exc)
            except ParseError as exc:
                self._reject("parse_errors", exc)
        return out

    def _reject(self, counter: str, exc: ParseError) -> None:
        self.counters[counter] += 1
        self.last_error = str(exc)
        log.warning("%s: rejected frame from %s: %s", self.family, self.device, exc)
