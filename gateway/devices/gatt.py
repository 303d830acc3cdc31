"""Field types shared by the Bluetooth SIG health characteristics: a cursor over one value, the
IEEE-11073 32-bit FLOAT, bit tables and the length check every parser makes before reading."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo

from gateway.devices.ble_bpm import SFloat, date_time, ieee11073, sfloat
from gateway.errors import ImplausibleReading, ParseError

# IEEE 11073-20601 FLOAT (32-bit) special values, by their 24-bit mantissa.
FLOAT_SPECIAL = {0x7FFFFF: "NaN", 0x800000: "NRes", 0x7FFFFE: "+INF", 0x800002: "-INF", 0x800001: "reserved"}


def float32(raw: int) -> SFloat:
    """Decode a 32-bit FLOAT: 8-bit signed exponent, 24-bit signed mantissa."""
    return ieee11073(raw, 24, 8, FLOAT_SPECIAL)


def expect_length(value: bytes, flags: int, sizes: Mapping[int, int], base: int, what: str) -> None:
    """Raise ParseError unless the value is exactly `base` bytes plus those of every flagged field."""
    need = base + sum(size for bit, size in sizes.items() if flags & bit)
    if len(value) != need:
        raise ParseError(f"{what}: flags 0x{flags:02x} announce {need} bytes, the value has {len(value)}")


def names(bits: int, table: Mapping[int, str]) -> list[str]:
    """The names of the set bits (bit number -> name), in bit order."""
    return [name for bit, name in sorted(table.items()) if bits & (1 << bit)]


def number(name: str, v: SFloat) -> float:
    """The value of a mandatory quantity; a special value rejects the measurement with its name."""
    if not v.is_number:
        raise ImplausibleReading(f"{name} is {v.special}")
    return v.value


def optional(v: SFloat | None) -> float | None:
    """An optional quantity: absent when the device sent no value (NaN, NRes) or any special value."""
    return v.value if v is not None and v.is_number else None


@dataclass
class Cursor:
    """Reads little-endian fields off one characteristic value, front to back."""

    value: bytes
    pos: int = 0

    def take(self, n: int) -> bytes:
        """The next n bytes."""
        if self.pos + n > len(self.value):
            raise ParseError(f"value ends at byte {len(self.value)}, a field needs {self.pos + n}")
        out = self.value[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, n: int) -> int:
        """An unsigned integer of n bytes."""
        return int.from_bytes(self.take(n), "little")

    def sint16(self) -> int:
        """A signed 16-bit integer."""
        return int.from_bytes(self.take(2), "little", signed=True)

    def sfloat(self) -> SFloat:
        """A 16-bit SFLOAT."""
        return sfloat(self.uint(2))

    def float32(self) -> SFloat:
        """A 32-bit FLOAT."""
        return float32(self.uint(4))

    def date_time(self, tz: tzinfo) -> datetime | None:
        """A Date Time field (7 bytes); None for the unknown zeros."""
        return date_time(self.take(7), tz)
