"""SMS-SUBMIT PDUs (3GPP TS 23.040): GSM 7-bit for plain Latin text, UCS-2 for Chinese, concatenated.

GSM 7-bit messages come from python-gsmmodem-new's `encodeSmsSubmitPdu`. UCS-2 messages are
assembled here because that encoder writes one 16-bit unit per character, which fails for a
character outside the Basic Multilingual Plane (`𠀀` in `李𠀀芳`, an emoji): such a character is
written as its UTF-16 surrogate pair, counted as two units, and a pair is never split across parts.

`tpdu_length` is what `AT+CMGS=<n>` announces: the TPDU alone, without the SMSC field in front of
it (TS 27.005 §3.5.1). The encoder library counts the SMSC field in; it is recomputed here.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from gsmmodem.pdu import Concatenation, encodeGsm7, encodeSemiOctets, encodeSmsSubmitPdu

from gateway.errors import ModemError

_references = itertools.count(1)

# An address a network routes: digits, `+` for an international number (type 0x91). Anything else
# would go out as an "alphanumeric" address (type 0xD0) that no network delivers.
_NUMBER = re.compile(r"\+?[0-9]{1,20}")

UCS2_SINGLE_UNITS = 70  # 140 octets of user data
UCS2_PART_UNITS = 67  # 140 - 6 octets of concatenation header, in 16-bit units
_SUBMIT, _UDHI, _UCS2 = 0x01, 0x40, 0x08


@dataclass(frozen=True, slots=True)
class Pdu:
    """One part of a message, ready for `AT+CMGS=<tpdu_length>`."""

    hex: str
    tpdu_length: int


def address_field(number: str, smsc: bool = False) -> bytes:
    """TS 23.040 §9.1.2.5 address: length, type (0x91 international, 0xA1 national), semi-octets."""
    if not _NUMBER.fullmatch(number):
        raise ModemError(f"{number!r} is not a phone number the network can route (write it as +8613900139000)")
    digits = number.removeprefix("+")
    toa = 0x91 if number.startswith("+") else 0xA1
    semi = bytes(encodeSemiOctets(digits))
    return bytes([len(semi) + 1 if smsc else len(digits), toa]) + semi


def utf16_parts(text: str, units_per_part: int) -> list[bytes]:
    """The text as UTF-16 big-endian, cut every `units_per_part` units but never inside a surrogate pair."""
    data = text.encode("utf-16-be", errors="replace")  # a lone surrogate in the input becomes '?'
    parts, start, step = [], 0, units_per_part * 2
    while start < len(data):
        end = min(start + step, len(data))
        if end < len(data) and 0xD8 <= data[end - 2] <= 0xDB:  # the last unit is a high surrogate
            end -= 2
        parts.append(data[start:end])
        start = end
    return parts


def _ucs2(number: str, text: str, smsc: str | None, ref: int) -> list[Pdu]:
    smsc_field = address_field(smsc, smsc=True) if smsc else b"\x00"
    single = utf16_parts(text, UCS2_SINGLE_UNITS)
    parts = single if len(single) <= 1 else utf16_parts(text, UCS2_PART_UNITS)
    pdus = []
    for number_in_sequence, user_data in enumerate(parts or [b""], start=1):
        first = _SUBMIT
        if len(parts) > 1:
            header = Concatenation()
            header.reference, header.parts, header.number = ref, len(parts), number_in_sequence
            element = bytes(header.encode())
            user_data = bytes([len(element)]) + element + user_data
            first |= _UDHI
        tpdu = bytes([first, ref]) + address_field(number) + bytes([0x00, _UCS2, len(user_data)]) + user_data
        pdus.append(Pdu((smsc_field + tpdu).hex().upper(), len(tpdu)))
    return pdus


def _is_gsm7(text: str) -> bool:
    try:
        encodeGsm7(text)
    except ValueError:
        return False
    return True


def encode(number: str, text: str, smsc: str | None = None, reference: int | None = None) -> list[Pdu]:
    """The PDU(s) for a text: GSM 7-bit when it fits the alphabet, UCS-2 otherwise, split with a UDH."""
    ref = reference if reference is not None else next(_references) % 256
    address_field(number)  # refuse what is not a number before anything reaches the modem
    if smsc:
        address_field(smsc, smsc=True)
    if not _is_gsm7(text):
        return _ucs2(number, text, smsc, ref)
    try:
        pdus = encodeSmsSubmitPdu(number, text, reference=ref, smsc=smsc, requestStatusReport=False)
    except (ValueError, TypeError) as exc:
        raise ModemError(f"cannot encode an SMS to {number!r}: {exc}") from exc
    return [Pdu(str(p), len(p.data) - 1 - p.data[0]) for p in pdus]  # data[0]: the SMSC field's length
