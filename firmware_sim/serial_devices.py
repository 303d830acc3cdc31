"""Serial devices on real pseudo-terminals: a BLE blood-pressure bridge and an RFLink dongle.

The gateway opens them with pyserial exactly like hardware, through a stable path (a symlink, as
udev's /dev/serial/by-id/ gives) so that an unplugged and replugged device reappears where it was.
Faults are explicit methods: garbage bytes, split writes, bad CRCs, unplug and replug.
"""

from __future__ import annotations

import os
import struct
import time
import tty
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from gateway.devices import slip

# Status bits of the Blood Pressure Measurement characteristic, by quality flag name.
STATUS_BITS = {
    "body_movement": 0x01,
    "cuff_too_loose": 0x02,
    "irregular_pulse": 0x04,
    "pulse_rate_high": 0x08,
    "pulse_rate_low": 0x10,
    "improper_position": 0x20,
}
SFLOAT_NAN = 0x07FF


def encode_sfloat(value: float, exponent: int = 0) -> int:
    """An IEEE-11073 SFLOAT with the given exponent (value is rounded to it)."""
    mantissa = round(value / 10.0**exponent)
    if not -2046 <= mantissa <= 2045:
        raise ValueError(f"{value} does not fit an SFLOAT with exponent {exponent}")
    return ((exponent & 0x0F) << 12) | (mantissa & 0x0FFF)


@dataclass(frozen=True)
class BpMeasurement:
    """What a monitor measured; encode() gives the 0x2A35 characteristic value."""

    systolic: float
    diastolic: float
    map: float | None = None
    pulse: float | None = 72
    measured_at: datetime | None = None
    user_id: int | None = 1
    flags: frozenset[str] = frozenset()
    kpa: bool = False

    def encode(self) -> bytes:
        """The characteristic value, every optional field present that is set."""
        exp = -1 if self.kpa else 0
        conv = (lambda v: v / 7.50062) if self.kpa else (lambda v: v)
        flags = (
            (0x01 if self.kpa else 0)
            | (0x02 if self.measured_at else 0)
            | (0x04 if self.pulse is not None else 0)
            | (0x08 if self.user_id is not None else 0)
            | (0x10 if self.flags else 0)
        )
        mean = SFLOAT_NAN if self.map is None else encode_sfloat(conv(self.map), exp)
        out = bytes([flags]) + struct.pack(
            "<HHH", encode_sfloat(conv(self.systolic), exp), encode_sfloat(conv(self.diastolic), exp), mean
        )
        if self.measured_at:
            t = self.measured_at
            out += struct.pack("<HBBBBB", t.year, t.month, t.day, t.hour, t.minute, t.second)
        if self.pulse is not None:
            out += struct.pack("<H", encode_sfloat(self.pulse))
        if self.user_id is not None:
            out += bytes([self.user_id])
        if self.flags:
            out += struct.pack("<H", sum(STATUS_BITS[f] for f in self.flags))
        return out

    def frame(self) -> bytes:
        """The SLIP frame the bridge writes: value, CRC."""
        return slip.encode(slip.with_crc(self.encode()))


@dataclass
class PtyPort:
    """A pseudo-terminal whose device end is reachable at `path` while plugged in."""

    path: Path
    _master: int | None = None
    _slave: int | None = None
    writes: int = field(default=0)

    @property
    def plugged(self) -> bool:
        """True while the device end exists."""
        return self._master is not None

    def plug(self) -> PtyPort:
        """Create the pseudo-terminal (raw, like a USB serial adapter) and point `path` at it."""
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no line discipline: bytes pass unchanged, as on a real UART
        tmp = self.path.with_name(self.path.name + ".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(self._slave))
        tmp.replace(self.path)
        return self

    def unplug(self) -> None:
        """The USB cable is pulled: the path disappears and the open port fails on the gateway side."""
        self.path.unlink(missing_ok=True)
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None

    def write(self, data: bytes) -> None:
        """Bytes from the device to the gateway."""
        if self._master is None:
            raise OSError("the simulated device is unplugged")
        view = memoryview(data)
        while view:
            n = os.write(self._master, view)
            view = view[n:]
        self.writes += 1

    def write_split(self, data: bytes, pieces: int, pause: float = 0.005) -> None:
        """The same bytes in several writes, so reads see partial frames."""
        step = max(1, len(data) // pieces)
        for i in range(0, len(data), step):
            self.write(data[i : i + step])
            time.sleep(pause)


@dataclass
class BpmBridge:
    """A BLE-to-UART bridge relaying a blood-pressure monitor, with the monitor's memory."""

    port: PtyPort
    stored: list[BpMeasurement] = field(default_factory=list)

    def measure(self, m: BpMeasurement, split: int = 1) -> bytes:
        """The monitor sends a new measurement (and keeps it in memory)."""
        self.stored.append(m)
        frame = m.frame()
        self.port.write_split(frame, split) if split > 1 else self.port.write(frame)
        return frame

    def resend_stored(self) -> None:
        """After reconnecting, monitors send their whole memory again."""
        for m in self.stored:
            self.port.write(m.frame())

    def bad_crc(self, m: BpMeasurement) -> bytes:
        """A frame whose CRC does not match (radio or UART corruption)."""
        value = m.encode()
        frame = slip.encode(value + ((slip.crc16(value) ^ 0x5A5A).to_bytes(2, "big")))
        self.port.write(frame)
        return frame

    def garbage(self, data: bytes = b"\x00\xffnoise\xdb\x01\xc0\xc0junk") -> None:
        """Line noise between frames."""
        self.port.write(data)


@dataclass
class RflinkDongle:
    """An RFLink 433 MHz receiver: prints its banner, then one line per received packet."""

    port: PtyPort
    counter: int = 0

    def line(self, text: str) -> str:
        """Write one packet line with the dongle's rolling counter."""
        full = f"20;{self.counter & 0xFF:02X};{text}\r\n"
        self.counter += 1
        self.port.write(full.encode("ascii"))
        return full

    def banner(self) -> None:
        """What the dongle says when it starts."""
        self.line("Nodo RadioFrequencyLink - RFLink Gateway V1.1 - R48;")

    def press(self, protocol: str, ident: str, switch: str = "01", cmd: str = "ON", repeats: int = 3) -> None:
        """A pendant press: cheap transmitters repeat the same code several times."""
        for _ in range(repeats):
            self.line(f"{protocol};ID={ident};SWITCH={switch};CMD={cmd};")
