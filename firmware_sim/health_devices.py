"""Bluetooth glucose meters, pulse oximeters, scales and thermometers as a BLE-to-UART bridge relays them
(`ble-gatt` framing: UUID, value, CRC in a SLIP frame), encoded from the SIG field tables; faults explicit."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import datetime

from firmware_sim.serial_devices import PtyPort, encode_sfloat
from gateway.devices import slip

GLUCOSE, GLUCOSE_CONTEXT, PLX_SPOT, PLX_CONTINUOUS, WEIGHT, TEMPERATURE = 0x2A18, 0x2A34, 0x2A5E, 0x2A5F, 0x2A9D, 0x2A1C
MEAL_CODES = {"before_meal": 1, "after_meal": 2, "fasting": 3, "casual": 4, "bedtime": 5}


def date_time(t: datetime | None) -> bytes:
    """The 7-byte Date Time field (zeros: unknown)."""
    if t is None:
        return bytes(7)
    return struct.pack("<HBBBBB", t.year, t.month, t.day, t.hour, t.minute, t.second)


def encode_float32(value: float, exponent: int = -2) -> bytes:
    """An IEEE-11073 32-bit FLOAT with the given exponent."""
    mantissa = round(value / 10.0**exponent)
    return struct.pack("<I", ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF))


@dataclass(frozen=True)
class GlucoseSample:
    """One fingerstick: the meter stores it with a sequence number and sends value and context."""

    sequence: int
    mmol_l: float
    measured_at: datetime
    meal: str | None = None
    mg_dl: bool = True  # most meters sold in China report mmol/L; many chipsets still send kg/L

    def measurement(self) -> bytes:
        """The 0x2A18 value: concentration, capillary whole blood from a finger, context flag."""
        flags = 0x02 | (0x00 if self.mg_dl else 0x04) | (0x10 if self.meal else 0)
        # kg/L at 1e-5 is mg/dL in the mantissa; mol/L at 1e-4 is tenths of mmol/L
        conc = encode_sfloat(self.mmol_l * 18.0156e-5, -5) if self.mg_dl else encode_sfloat(self.mmol_l / 1000, -4)
        return (
            bytes([flags])
            + struct.pack("<H", self.sequence)
            + date_time(self.measured_at)
            + struct.pack("<H", conc)
            + b"\x11"
        )

    def context(self) -> bytes | None:
        """The 0x2A34 value with the meal, self-tested; None when the meter has no context for it."""
        if not self.meal:
            return None
        return bytes([0x06]) + struct.pack("<H", self.sequence) + bytes([MEAL_CODES[self.meal], 0xF1])


@dataclass(frozen=True)
class OximeterSample:
    """A spot-check or one second of a continuous recording."""

    spo2: float
    pulse: float
    measured_at: datetime | None = None

    def spot_check(self) -> bytes:
        """The 0x2A5E value, with the time stamp when known."""
        flags = 0x01 if self.measured_at else 0
        out = bytes([flags]) + struct.pack("<HH", encode_sfloat(self.spo2), encode_sfloat(self.pulse))
        return out + (date_time(self.measured_at) if self.measured_at else b"")

    def continuous(self) -> bytes:
        """The 0x2A5F value, normal averaging only."""
        return bytes([0]) + struct.pack("<HH", encode_sfloat(self.spo2), encode_sfloat(self.pulse))


@dataclass(frozen=True)
class Weighing:
    """A step on the scale, SI units at 0.005 kg."""

    kg: float
    measured_at: datetime | None = None
    user_id: int = 1

    def measurement(self) -> bytes:
        """The 0x2A9D value with time stamp and user."""
        return (
            bytes([0x06])
            + struct.pack("<H", round(self.kg / 0.005))
            + date_time(self.measured_at)
            + bytes([self.user_id])
        )


@dataclass(frozen=True)
class TemperatureSample:
    """An ear thermometer's reading in °C."""

    celsius: float
    measured_at: datetime | None = None

    def measurement(self) -> bytes:
        """The 0x2A1C value with time stamp and type (tympanum)."""
        return bytes([0x06]) + encode_float32(self.celsius) + date_time(self.measured_at) + b"\x09"


def gatt_frame(uuid: int, value: bytes) -> bytes:
    """The bridge's SLIP frame: UUID (little-endian), value, CRC."""
    return slip.encode(slip.with_crc(uuid.to_bytes(2, "little") + value))


@dataclass
class GattBridge:
    """A BLE-to-UART bridge relaying one health device; remembers what it sent, as meters do."""

    port: PtyPort
    sent: list[bytes] = field(default_factory=list)

    def send(self, uuid: int, value: bytes, split: int = 1) -> bytes:
        """Relay one characteristic value."""
        frame = gatt_frame(uuid, value)
        self.sent.append(frame)
        self.port.write_split(frame, split) if split > 1 else self.port.write(frame)
        return frame

    def glucose(self, sample: GlucoseSample, split: int = 1) -> None:
        """A glucose measurement and, when the meter has one, its context right after."""
        self.send(GLUCOSE, sample.measurement(), split)
        if (ctx := sample.context()) is not None:
            self.send(GLUCOSE_CONTEXT, ctx, split)

    def resend_all(self) -> None:
        """After reconnecting, a meter sends its memory again."""
        for frame in list(self.sent):
            self.port.write(frame)

    def bad_crc(self, uuid: int, value: bytes) -> None:
        """A frame whose CRC does not match."""
        body = uuid.to_bytes(2, "little") + value
        self.port.write(slip.encode(body + (slip.crc16(body) ^ 0x5A5A).to_bytes(2, "big")))
