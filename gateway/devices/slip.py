"""SLIP framing (RFC 1055) with a trailing CRC-16/CCITT-FALSE: pure, fed bytes, never raises on input."""

from __future__ import annotations

import binascii
from collections import Counter

from gateway.errors import FrameError

END = 0xC0
ESC = 0xDB
ESC_END = 0xDC
ESC_ESC = 0xDD
MAX_FRAME = 256  # far above any characteristic value we carry; longer means we lost sync


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection); check value 0x29B1."""
    return binascii.crc_hqx(data, 0xFFFF)


def encode(payload: bytes) -> bytes:
    """One SLIP frame: END, escaped payload, END (the leading END flushes line noise)."""
    body = payload.replace(bytes([ESC]), bytes([ESC, ESC_ESC])).replace(bytes([END]), bytes([ESC, ESC_END]))
    return bytes([END]) + body + bytes([END])


def with_crc(value: bytes) -> bytes:
    """The value followed by its CRC, big-endian, as the BLE bridge sends it."""
    return value + crc16(value).to_bytes(2, "big")


def check_crc(frame: bytes) -> bytes:
    """The value inside a frame whose last two bytes are its CRC; raises FrameError."""
    if len(frame) < 3:
        raise FrameError(f"frame of {len(frame)} bytes is too short for a value and a CRC")
    value, crc = frame[:-2], int.from_bytes(frame[-2:], "big")
    if crc16(value) != crc:
        raise FrameError(f"CRC mismatch: frame says {crc:04x}, value gives {crc16(value):04x}")
    return value


class SlipFramer:
    """Turns a byte stream into frames; partial frames wait for more bytes, damage is counted and skipped."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.max_frame = max_frame
        self.counters: Counter[str] = Counter()
        self._buf = bytearray()
        self._escaped = False
        self._broken = False

    def reset(self) -> None:
        """Forget a partial frame (the port was closed; its rest will never come)."""
        if self._buf:
            self.counters["partial_frames_dropped"] += 1
        self._buf.clear()
        self._escaped = False
        self._broken = False

    def feed(self, data: bytes) -> list[bytes]:
        """Every complete, well-escaped frame the new bytes finish, in order."""
        frames: list[bytes] = []
        for byte in data:
            if byte == END:
                if self._buf and not self._broken:
                    frames.append(bytes(self._buf))
                    self.counters["frames"] += 1
                self._buf.clear()
                self._escaped = False
                self._broken = False
            elif self._broken:
                continue  # skip to the next END: that is where the sender resynchronises
            elif self._escaped:
                self._escaped = False
                if byte == ESC_END:
                    self._append(END)
                elif byte == ESC_ESC:
                    self._append(ESC)
                else:
                    self._break("bad_escapes")
            elif byte == ESC:
                self._escaped = True
            else:
                self._append(byte)
        return frames

    def _append(self, byte: int) -> None:
        if len(self._buf) >= self.max_frame:
            self._break("oversized_frames")
        else:
            self._buf.append(byte)

    def _break(self, reason: str) -> None:
        self.counters[reason] += 1
        self._buf.clear()
        self._broken = True
