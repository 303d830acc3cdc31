"""The uplink format: what a gateway sends is what the server reads, and bad input is refused clearly."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anxin import protocol as p


def test_batch_round_trip_keeps_every_field():
    batch = p.UplinkBatch(
        "gw-1",
        "boot-a",
        (p.UplinkEvent(7, "alarm", 1.5e9, {"type": "sos", "名": "王"}, 12.5),),
        sent_at=1.5e9 + 1,
        clock_synced=False,
    )
    assert p.decode_batch(p.encode_batch(batch)) == batch


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b"\x00\x01", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"v": 2, "gw": "g", "boot": "b", "events": []}', "unsupported version"),
        (b'{"v": 1, "boot": "b", "events": []}', "missing gateway id"),
        (b'{"v": 1, "gw": "g", "boot": "b", "events": [{"seq": 0, "lane": "alarm", "ts": 1, "body": {}}]}', "bad seq"),
        (b'{"v": 1, "gw": "g", "boot": "b", "events": [{"seq": 1, "lane": "x", "ts": 1, "body": {}}]}', "bad lane"),
        (
            b'{"v": 1, "gw": "g", "boot": "b", "events": [{"seq": 1, "lane": "alarm", "ts": true, "body": {}}]}',
            "bad ts",
        ),
    ],
)
def test_malformed_batches_say_why(payload, reason):
    with pytest.raises(p.ProtocolError, match=reason):
        p.decode_batch(payload)


def test_topics_name_their_gateway():
    assert p.gateway_from_topic(p.up_topic("gw-7")) == "gw-7"
    with pytest.raises(p.ProtocolError):
        p.gateway_from_topic("anxin/v1/gw//up")


def test_ack_and_command_round_trip():
    assert p.decode_ack(p.encode_ack(p.Ack((1, 2, 5), (3,)))) == p.Ack((1, 2, 5), (3,))
    cmd = p.Command("alarm_acknowledged", {"by": "李伟", "alarm_id": 3})
    assert p.decode_command(p.encode_command(cmd)) == cmd


@given(st.binary(max_size=512))
def test_arbitrary_bytes_never_raise_anything_but_protocol_error(data):
    for decode in (p.decode_batch, p.decode_ack, p.decode_command):
        with contextlib.suppress(p.ProtocolError):
            decode(data)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=5), c, max_size=4),
        max_leaves=20,
    )
)
def test_arbitrary_json_never_raises_anything_but_protocol_error(doc):
    raw = json.dumps({"v": 1, "gw": "g", "boot": "b", "events": [doc]}).encode()
    with contextlib.suppress(p.ProtocolError):
        p.decode_batch(raw)
