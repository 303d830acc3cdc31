"""The batch written from stored body text is byte for byte the batch encode_batch writes (issue 24)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from anxin import protocol

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
bodies = st.dictionaries(st.text(max_size=10), json_value, max_size=6)
numbers = st.floats(allow_nan=True, allow_infinity=True) | st.integers(min_value=-(2**40), max_value=2**40)
events = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=protocol.MAX_SEQ),
        st.sampled_from(protocol.LANES),
        numbers,
        st.none() | numbers,
        bodies,
    ),
    max_size=8,
)


def both(
    gw: str, boot: str, evs: list[tuple[Any, ...]], sent: float, synced: bool, batch_id: str
) -> tuple[bytes, bytes]:
    batch = protocol.UplinkBatch(
        gw,
        boot,
        tuple(protocol.UplinkEvent(s, lane, ts, body, mono) for s, lane, ts, mono, body in evs),
        sent,
        synced,
        batch_id,
    )
    texts = [(s, lane, ts, mono, protocol.body_text(body)) for s, lane, ts, mono, body in evs]
    return protocol.encode_batch(batch), protocol.encode_batch_text(gw, boot, texts, sent, synced, batch_id)


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1), st.text(), events, numbers, st.booleans(), st.text(max_size=32))
def test_the_same_bytes_as_encode_batch(
    gw: str, boot: str, evs: list[tuple[Any, ...]], sent: float, synced: bool, batch_id: str
) -> None:
    try:
        old, new = both(gw, boot, evs, sent, synced, batch_id)
    except UnicodeEncodeError:  # a lone surrogate: encode_batch cannot write it either (checked below)
        texts = [(s, la, t, m, protocol.body_text(b)) for s, la, t, m, b in evs]
        try:
            protocol.encode_batch_text(gw, boot, texts, sent, synced, batch_id)
        except UnicodeEncodeError:
            return
        raise
    assert new == old


def test_a_gateway_batch_with_alarms_and_chinese_text() -> None:
    evs = [
        (7, "alarm", 1_765_000_000.25, 12.5, {"type": "sos", "message": "客厅按钮", "detail": {"button": 1}}),
        (9, "reading", 1_765_000_001.0, None, {"metric": "climate", "values": {"temperature": 21.5, "humidity": 40}}),
        (10, "gap", 1_765_000_002, 13, {"reason": "disk_cap", "ranges": [[3, 5]], "count": 3}),
    ]
    old, new = both("gw-1", "b00t", evs, 1_765_000_003.5, True, "0123abcd")
    assert new == old
    assert protocol.carries_alarm(new)
    decoded = protocol.decode_batch(new)
    assert [e.seq for e in decoded.events] == [7, 9, 10] and decoded.batch_id == "0123abcd"
    assert json.loads(new)["events"][0]["body"]["message"] == "客厅按钮"


def test_an_empty_batch_without_id() -> None:
    old, new = both("gw-1", "", [], 0.0, False, "")
    assert new == old
