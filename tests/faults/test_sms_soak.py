"""Soak: 100 alarms texted through the strict simulated modem on a pseudo-terminal, names drawn from
real CJK ranges (Extension B included), numbers typed as people type them, long messages; every PDU
decoded back by an independent TS 23.040 decoder and compared with the text the gateway meant."""

from __future__ import annotations

import random
from contextlib import contextmanager
from io import StringIO

import pytest
import serial
from smspdudecoder.fields import SMSSubmit

from gateway.config import SmsConfig
from gateway.fallback.modem import GsmModem
from gateway.fallback.sms import SmsFallback
from gateway.outbox import Outbox
from gateway.outbox_db import connect

pytestmark = [pytest.mark.integration]

# (first, last) code points, all assigned: URO, Extension A, Extension B, and emoji people put in notes.
RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x1F600, 0x1F64F)]
WEIGHTS = [6, 1, 3, 1]
MOBILE_PREFIXES = ["130", "135", "138", "139", "150", "177", "186", "199"]
FORMATS = [
    "+86 {a} {b} {c}",
    "{a}-{b}-{c}",
    "{a}{b}{c}",
    "0086 {a}{b}{c}",
    "+86-{a}-{b}-{c}",
    "{a} {b} {c}",
    "+86{a}{b}{c}",
    "({a}) {b} {c}",
]
ALARM = {"type": "sos", "severity": "emergency", "change": "raise", "device": "sos-button", "resident": "R001"}


def name(rng: random.Random, length: int) -> str:
    chars = []
    for _ in range(length):
        lo, hi = rng.choices(RANGES, WEIGHTS)[0]
        chars.append(chr(rng.randint(lo, hi)))
    return "".join(chars)


def typed_number(rng: random.Random) -> tuple[str, str]:
    """(as typed, E.164) for a random Chinese mobile number."""
    a, b, c = rng.choice(MOBILE_PREFIXES), f"{rng.randint(0, 9999):04d}", f"{rng.randint(0, 9999):04d}"
    return rng.choice(FORMATS).format(a=a, b=b, c=c), f"+86{a}{b}{c}"


def read_back(pdus: list[str]) -> dict[str, str]:
    """Whole messages per recipient, reassembled from the concatenation headers smspdudecoder reads."""
    parts: dict[tuple[str, int | None], dict[int, str]] = {}
    totals: dict[tuple[str, int | None], int] = {}
    for pdu in pdus:
        d = SMSSubmit.decode(StringIO(pdu))
        assert d["recipient"]["toa"]["ton"] == "international"
        header = (d["user_data"]["header"] or {}).get("elements", [{}])[0].get("data", {})
        key = ("+" + d["recipient"]["number"], header.get("reference"))
        assert header.get("part_number", 1) not in parts.setdefault(key, {}), "one reference per message"
        parts[key][header.get("part_number", 1)] = d["user_data"]["data"]
        totals[key] = header.get("parts_count", 1)
    out: dict[str, str] = {}
    for (number, _ref), got in parts.items():
        assert sorted(got) == list(range(1, totals[(number, _ref)] + 1)), f"parts missing for {number}"
        assert number not in out, f"two messages to {number} for one alarm"
        out[number] = "".join(got[k] for k in sorted(got))
    return out


def test_soak_hundred_alarms_decode_back_to_what_was_meant(tmp_path, modem):
    @contextmanager
    def open_modem():
        # The gateway's GsmModem over pyserial on the pty; a short read time-out keeps 100 alarms quick.
        port = serial.Serial(modem.port, 115200, timeout=0.01, write_timeout=5)
        try:
            yield GsmModem(port, command_timeout=5.0, send_timeout=5.0)
        finally:
            port.close()

    rng = random.Random(26)
    box = Outbox(connect(tmp_path / "soak.sqlite"))
    box.recover(1.7e9)
    multipart = 0
    for i in range(100):
        label = f"{name(rng, rng.randint(2, 4))}（{name(rng, rng.randint(0, 120))} {rng.randint(1, 40)} 号）"
        numbers = [typed_number(rng) for _ in range(2)]
        config = SmsConfig(
            port=modem.port,
            caregivers=[typed for typed, _ in numbers],
            resident_label=label,
            smsc="+86 138 0010 0500" if i % 2 else None,
            after_s=0,
            attempts=1,
            retry_after_s=0,
        )
        assert config.caregivers == [e164 for _, e164 in numbers]
        fb = SmsFallback(config, box, open_modem, sleep=lambda s: None)
        seen = len(modem.pdus)
        box.put_alarm(ALARM, 1.7e9 + i)
        assert fb.check() == 1
        record = next(a for a in box.alarms() if a.ts == 1.7e9 + i).body["sms"]
        assert record["delivered_to"] == config.caregivers, (label, record)
        assert label in record["text"]
        assert read_back(modem.pdus[seen:]) == dict.fromkeys(config.caregivers, record["text"])
        multipart += len(modem.pdus) - seen > 2
    assert modem.rejected == []
    assert multipart > 50, "the soak must exercise long, concatenated messages"
