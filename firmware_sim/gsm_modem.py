"""A GSM modem on a real pseudo-terminal: 3GPP TS 27.005 AT commands in PDU mode, failing on demand.

The gateway opens `modem.port` with pyserial exactly as it would open /dev/ttyUSB2 on the Pi. PDUs
are decoded here independently of the encoder the gateway uses, so a test that reads `texts()`
checks what a phone would display.
"""

from __future__ import annotations

import os
import re
import select
import threading
import time
import tty
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReceivedPart:
    """One SMS-SUBMIT the modem accepted."""

    number: str
    text: str
    ref: int | None = None
    part: int = 1
    total: int = 1
    routable: bool = True


def _number(digits_hex: str, n_digits: int, toa: int) -> str:
    swapped = "".join(digits_hex[i + 1] + digits_hex[i] for i in range(0, len(digits_hex), 2))
    return ("+" if toa & 0x70 == 0x10 else "") + swapped[:n_digits]


def _unpack7(data: bytes, septets: int) -> str:
    bits = int.from_bytes(data, "little")
    chars = [(bits >> (7 * i)) & 0x7F for i in range(septets)]
    return "".join(chr(c) for c in chars)  # basic Latin subset is enough for the simulator


def tpdu_length(pdu_hex: str) -> int:
    """Octets after the SMSC field, what `AT+CMGS=<length>` must announce; -1 when not hex."""
    try:
        raw = bytes.fromhex(pdu_hex)
    except ValueError:
        return -1
    return len(raw) - 1 - raw[0] if raw else -1


def decode_submit(pdu_hex: str) -> ReceivedPart:
    """Decode an SMS-SUBMIT PDU (with SMSC prefix) into number, text and concatenation info."""
    raw = bytes.fromhex(pdu_hex)
    i = 1 + raw[0]  # skip the SMSC field
    first = raw[i]
    i += 2  # first octet, message reference
    n_digits, toa = raw[i], raw[i + 1]
    addr_len = (n_digits + 1) // 2
    number = _number(raw[i + 2 : i + 2 + addr_len].hex().upper(), n_digits, toa)
    routable = toa & 0x70 in (0x00, 0x10, 0x20)  # unknown, international, national: not alphanumeric
    i += 2 + addr_len
    dcs = raw[i + 1]
    i += 2
    vp_format = (first >> 3) & 0x03
    i += {0: 0, 2: 1}.get(vp_format, 7)
    udl = raw[i]
    ud = raw[i + 1 :]
    ref, part, total, header = None, 1, 1, 0
    if first & 0x40:  # UDHI: a user data header (concatenation) precedes the text
        udhl = ud[0]
        h = ud[1 : 1 + udhl]
        if h[0] == 0x00:
            ref, total, part = h[2], h[3], h[4]
        elif h[0] == 0x08:
            ref, total, part = int.from_bytes(h[2:4], "big"), h[4], h[5]
        header = udhl + 1
    if dcs & 0x0C == 0x08:  # UCS-2
        text = ud[header:udl].decode("utf-16-be")
    else:
        header_septets = (header * 8 + 6) // 7
        text = _unpack7(ud, udl)[header_septets:]
    return ReceivedPart(number, text, ref, part, total, routable)


class SimModem:
    """Answers AT commands on the master side of a pseudo-terminal; `port` is the device path."""

    def __init__(self) -> None:
        self.received: list[ReceivedPart] = []
        self.pdus: list[str] = []  # every PDU accepted, as written to the port (for outside decoders)
        self.rejected: list[str] = []  # PDUs refused with +CMS ERROR 304 or 1
        self.commands: list[str] = []
        self._failures: deque[str] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._master = -1
        self._slave = -1
        self.port = ""
        self._thread: threading.Thread | None = None
        self._mr = 0

    def start(self) -> SimModem:
        """Open the pseudo-terminal and answer on a thread."""
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._run, name="sim-modem", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering and close the terminal."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)

    def fail_next(self, n: int = 1, how: str = "cms:500") -> None:
        """The next n sends fail: `cms:<code>` answers +CMS ERROR, `silent` never answers (time-out)."""
        with self._lock:
            self._failures.extend([how] * n)

    def texts(self) -> dict[str, list[str]]:
        """Complete messages per number, concatenated parts joined in order."""
        out: dict[str, list[str]] = {}
        groups: dict[tuple[str, int], dict[int, ReceivedPart]] = {}
        for p in self.received:
            if p.total == 1 or p.ref is None:
                out.setdefault(p.number, []).append(p.text)
                continue
            g = groups.setdefault((p.number, p.ref), {})
            g[p.part] = p
            if len(g) == p.total:
                out.setdefault(p.number, []).append("".join(g[k].text for k in sorted(g)))
                del groups[(p.number, p.ref)]
        return out

    def _write(self, text: str) -> None:
        os.write(self._master, text.encode("ascii"))

    def _run(self) -> None:
        buf = b""
        pending_len: int | None = None
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.1)
            if not ready:
                continue
            try:
                buf += os.read(self._master, 4096)
            except OSError:
                return
            while True:
                if pending_len is not None:
                    end = min((i for i in (buf.find(b"\x1a"), buf.find(b"\x1b")) if i >= 0), default=-1)
                    if end < 0:
                        break
                    body, cancel, buf = buf[:end], buf[end : end + 1] == b"\x1b", buf[end + 1 :]
                    if not cancel:
                        self._submit(body.decode("ascii", errors="replace").strip(), pending_len)
                    pending_len = None
                    continue
                if b"\r" not in buf:
                    break
                line, buf = buf.split(b"\r", 1)
                pending_len = self._command(line.decode("ascii", errors="replace").strip())

    def _command(self, cmd: str) -> int | None:
        if not cmd:
            return None
        self.commands.append(cmd)
        if m := re.fullmatch(r"AT\+CMGS=(\d+)", cmd, re.IGNORECASE):
            self._write("\r\n> ")
            return int(m.group(1))
        if re.fullmatch(r"AT(E[01]|\+CMEE=[012]|\+CMGF=0|\+CSCA\?|I)?", cmd, re.IGNORECASE):
            self._write("\r\nOK\r\n")
        else:
            self._write("\r\nERROR\r\n")
        return None

    def _submit(self, pdu_hex: str, announced: int) -> None:
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if failure == "silent":
            return
        if failure and failure.startswith("cms:"):
            self._write(f"\r\n+CMS ERROR: {failure[4:]}\r\n")
            return
        if tpdu_length(pdu_hex) != announced:
            # A real modem reads the SMSC field plus exactly <length> octets (TS 27.005 §3.5.1);
            # anything else is not the PDU it was promised.
            self.rejected.append(pdu_hex)
            self._write("\r\n+CMS ERROR: 304\r\n")  # invalid PDU mode parameter
            return
        try:
            part = decode_submit(pdu_hex)
        except (ValueError, IndexError, UnicodeDecodeError):
            self.rejected.append(pdu_hex)
            self._write("\r\n+CMS ERROR: 304\r\n")
            return
        if not part.routable:
            self.rejected.append(pdu_hex)
            self._write("\r\n+CMS ERROR: 1\r\n")  # unassigned number: the network cannot route it
            return
        self.received.append(part)
        self.pdus.append(pdu_hex)
        self._mr = (self._mr + 1) % 256
        self._write(f"\r\n+CMGS: {self._mr}\r\n\r\nOK\r\n")


def run_modem(fail: int = 0, how: str = "cms:500", exit_after: float | None = None) -> int:
    """`anxin-sim modem`: serve until interrupted, printing every complete message."""
    modem = SimModem().start()
    if fail:
        modem.fail_next(fail, how)
    print(f"GSM modem on {modem.port} (set sms.port to this path in the gateway configuration)", flush=True)
    shown: set[tuple[str, int]] = set()
    deadline = time.monotonic() + exit_after if exit_after else None
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
            for number, texts in modem.texts().items():
                for i, text in enumerate(texts):
                    if (number, i) not in shown:
                        shown.add((number, i))
                        print(f"SMS to {number}: {text}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        modem.stop()
    return 0
