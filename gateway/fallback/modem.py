"""A GSM modem driven with 3GPP TS 27.005 AT commands in PDU mode, over any pyserial-like port."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

import serial

from gateway.errors import ModemError, ModemTimeout, SmsRejected
from gateway.fallback.pdu import Pdu, encode

log = logging.getLogger(__name__)

CTRL_Z, ESC = b"\x1a", b"\x1b"
_CMS = re.compile(r"^\+CMS ERROR:\s*(\d+)")
_CME = re.compile(r"^\+CME ERROR:\s*(.+)$")
_CMGS = re.compile(r"^\+CMGS:\s*(\d+)")


class Port(Protocol):
    """The part of `serial.Serial` the modem needs (a pseudo-terminal in tests, a USB modem on the Pi)."""

    def read(self, size: int = 1) -> bytes:
        """Up to size bytes, or fewer after the port's read timeout."""

    def write(self, data: bytes) -> int | None:
        """Send bytes."""

    def reset_input_buffer(self) -> None:
        """Forget bytes not yet read."""


class LineBuffer:
    """Splits modem output into lines, and notices the `> ` prompt that has no line end."""

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> list[str]:
        """Complete, non-empty lines from what has arrived so far."""
        self._buf += data
        *lines, self._buf = self._buf.split(b"\r\n") if b"\r\n" in self._buf else [self._buf]
        return [ln.decode("ascii", errors="replace").strip() for ln in lines if ln.strip()]

    def take_prompt(self) -> bool:
        """True (and consume it) when the modem waits for PDU input."""
        stripped = self._buf.lstrip(b"\r\n")
        if stripped.startswith(b">"):
            self._buf = b""
            return True
        return False


class GsmModem:
    """Sends SMS; every failure is a ModemError subclass with the modem's own words."""

    def __init__(
        self, port: Port, command_timeout: float, send_timeout: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.port = port
        self.command_timeout = command_timeout
        self.send_timeout = send_timeout
        self.monotonic = monotonic
        self._lines = LineBuffer()

    def _read(self) -> bytes:
        try:
            return self.port.read(256)
        except OSError as exc:
            raise ModemError(f"modem port read failed: {exc}") from exc

    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
        except OSError as exc:
            raise ModemError(f"modem port write failed: {exc}") from exc

    def _final(self, deadline: float, what: str) -> list[str]:
        """Info lines up to the final result code; raises on errors and time-outs."""
        info: list[str] = []
        while self.monotonic() < deadline:
            for line in self._lines.feed(self._read()):
                if line == "OK":
                    return info
                if line in ("ERROR", "NO CARRIER"):
                    raise ModemError(f"{what}: {line}")
                if m := _CMS.match(line):
                    raise SmsRejected(int(m.group(1)))
                if m := _CME.match(line):
                    raise ModemError(f"{what}: +CME ERROR: {m.group(1)}")
                info.append(line)
        raise ModemTimeout(f"{what}: no answer within the time-out")

    def command(self, cmd: str, timeout: float | None = None) -> list[str]:
        """Run one AT command; returns its information lines."""
        self.port.reset_input_buffer()
        self._lines = LineBuffer()
        self._write(cmd.encode("ascii") + b"\r")
        return self._final(self.monotonic() + (timeout or self.command_timeout), cmd)

    def initialise(self) -> None:
        """Wake the modem, echo off, numeric errors, PDU mode."""
        for cmd in ("AT", "ATE0", "AT+CMEE=1", "AT+CMGF=0"):
            self.command(cmd)

    def send_pdu(self, pdu: Pdu) -> int:
        """Send one PDU with AT+CMGS; returns the network's message reference."""
        self.port.reset_input_buffer()
        self._lines = LineBuffer()
        self._write(f"AT+CMGS={pdu.tpdu_length}\r".encode("ascii"))
        deadline = self.monotonic() + self.command_timeout
        while not self._lines.take_prompt():
            if self.monotonic() >= deadline:
                self._write(ESC)
                raise ModemTimeout("AT+CMGS: no '>' prompt")
            for line in self._lines.feed(self._read()):
                if m := _CMS.match(line):
                    raise SmsRejected(int(m.group(1)))
                if line == "ERROR" or line.startswith("+CME ERROR"):
                    raise ModemError(f"AT+CMGS refused: {line}")
        self._write(pdu.hex.encode("ascii") + CTRL_Z)
        info = self._final(self.monotonic() + self.send_timeout, "AT+CMGS")
        for line in info:
            if m := _CMGS.match(line):
                return int(m.group(1))
        raise ModemError(f"AT+CMGS: OK without a message reference ({info})")

    def send_sms(self, number: str, text: str, smsc: str | None = None) -> list[int]:
        """Send a text (several PDUs when long); returns the message references of its parts."""
        refs = [self.send_pdu(p) for p in encode(number, text, smsc)]
        log.info("SMS to %s sent in %d part(s): references %s", number, len(refs), refs)
        return refs


@contextmanager
def open_serial_modem(port: str, baudrate: int, command_timeout: float, send_timeout: float) -> Iterator[GsmModem]:
    """Open the modem's serial port for one conversation; a missing or busy port is a ModemError."""
    try:
        conn = serial.serial_for_url(port, baudrate=baudrate, timeout=0.1, write_timeout=5)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise ModemError(f"cannot open modem port {port}: {exc}") from exc
    try:
        yield GsmModem(conn, command_timeout, send_timeout)
    except serial.SerialException as exc:
        raise ModemError(f"modem port {port} failed: {exc}") from exc
    finally:
        conn.close()
