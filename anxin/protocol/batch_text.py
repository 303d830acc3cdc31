"""The uplink batch written from bodies already encoded as JSON: the same bytes as `encode_batch`, cheaper.

The gateway's outbox stores each body as JSON (`body_text`) when it commits it; the uplink sends most
entries right after. Re-encoding every body into each batch was a large part of the uplink thread's CPU
per reading (issue 24); here the stored text is put into the envelope as it is. The bytes equal
`envelope.encode_batch` of the same batch (tests/unit/anxin/test_batch_text.py compares both on
generated bodies), so the server, `carries_alarm` and the wire format do not notice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]  # CPython's C encoder
from typing import Any

from anxin.protocol.envelope import VERSION

# What encode_batch writes for a body: json.dumps(body, separators=(",", ":"), ensure_ascii=False).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# Its C encoder made once (JSONEncoder.encode makes one per call); the same text for every tree of plain
# JSON types (no circular check: a body is never circular). Reentrant: it keeps no state between calls.
_c_encode = (
    c_make_encoder(None, _ENCODER.default, encode_basestring, None, ":", ",", False, False, True)
    if c_make_encoder is not None
    else None
)

# (seq, lane, ts, mono, body as body_text wrote it)
EncodedEvent = tuple[int, str, float, "float | None", str]

_LANES = {name: encode_basestring(name) for name in ("alarm", "event", "reading", "gap")}


def body_text(value: Any) -> str:
    """A value (a body) as encode_batch writes it inside a batch."""
    if _c_encode is None:
        return _ENCODER.encode(value)
    return "".join(_c_encode(value, 0))


def _number(x: float | None) -> str:
    if type(x) is float and math.isfinite(x):
        return float.__repr__(x)  # what json writes for a finite float
    if x is None:
        return "null"
    return body_text(x)  # ints, NaN and infinities: json's own words


def encode_batch_text(
    gateway_id: str,
    boot_id: str,
    events: Sequence[EncodedEvent],
    sent_at: float,
    clock_synced: bool,
    batch_id: str = "",
) -> bytes:
    """The batch `encode_batch(UplinkBatch(gateway_id, boot_id, …))` would write, from encoded bodies."""
    lanes = _LANES
    parts = [
        f'{{"v":{VERSION},"gw":{encode_basestring(gateway_id)},"boot":{encode_basestring(boot_id)},'
        f'"sent":{_number(sent_at)},"synced":{"true" if clock_synced else "false"},"events":['
    ]
    parts.append(
        ",".join(
            [
                f'{{"seq":{int.__repr__(seq)},"lane":{lanes.get(lane) or encode_basestring(lane)},'
                f'"ts":{_number(ts)},"mono":{_number(mono)},"body":{body}}}'
                for seq, lane, ts, mono, body in events
            ]
        )
    )
    parts.append(f'],"id":{encode_basestring(batch_id)}}}' if batch_id else "]}")
    return "".join(parts).encode()
