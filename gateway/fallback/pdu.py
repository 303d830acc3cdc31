"""SMS-SUBMIT PDUs (3GPP TS 23.040): UCS-2 for Chinese, concatenated past one message's length.

Encoding is python-gsmmodem-new's `encodeSmsSubmitPdu`, a well-tested implementation of the
format; this module only fixes the options Anxin needs and gives the result a typed shape.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from gsmmodem.pdu import encodeSmsSubmitPdu

from gateway.errors import ModemError

_references = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Pdu:
    """One part of a message, ready for `AT+CMGS=<tpdu_length>`."""

    hex: str
    tpdu_length: int


def encode(number: str, text: str, smsc: str | None = None, reference: int | None = None) -> list[Pdu]:
    """The PDU(s) for a text: GSM 7-bit when it fits the alphabet, UCS-2 otherwise, split with a UDH."""
    ref = reference if reference is not None else next(_references) % 256
    try:
        pdus = encodeSmsSubmitPdu(number, text, reference=ref, smsc=smsc, requestStatusReport=False)
    except (ValueError, TypeError) as exc:
        raise ModemError(f"cannot encode an SMS to {number!r}: {exc}") from exc
    return [Pdu(str(p), int(p.tpduLength)) for p in pdus]
