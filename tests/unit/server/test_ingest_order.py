"""Alarms overtake readings on the server too: a queued alarm batch is committed before earlier reading batches."""

from __future__ import annotations

import threading

import pytest

from anxin import protocol
from server.db.session import create_schema, make_engine, session_factory
from server.ingest import Ingest


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/ingest.db")
    create_schema(engine)
    yield session_factory(engine)
    engine.dispose()


def batch(gw: str, first: int, lane: str, n: int) -> bytes:
    body = (
        {"type": "sos", "severity": "emergency", "change": "raise", "device": "sos-button"}
        if lane == "alarm"
        else {"device": "climate", "metric": "climate", "values": {"temperature": 21.0}}
    )
    events = tuple(protocol.UplinkEvent(first + i, lane, 1_800_000_000.0, body) for i in range(n))
    return protocol.encode_batch(protocol.UplinkBatch(gw, "boot", events, sent_at=0.0))


def test_alarm_batch_is_committed_before_reading_batches_queued_earlier(sessions):
    acks: list[tuple[str, protocol.Ack]] = []
    done = threading.Event()

    def publish(topic: str, payload: bytes, _qos: int) -> None:
        acks.append((topic, protocol.decode_ack(payload)))
        if len(acks) == 6:
            done.set()

    ingest = Ingest(sessions, publish, on_new_alarm=lambda _a: None)
    # A backlog from other homes arrives first, then one home's SOS; nothing is handled yet.
    for i in range(5):
        ingest.on_message(protocol.up_topic(f"gw-load{i}"), batch(f"gw-load{i}", 1, "reading", 50))
    ingest.on_message(protocol.up_topic("gw-home"), batch("gw-home", 7, "alarm", 1))
    ingest.start()
    try:
        assert done.wait(30), f"only {len(acks)} of 6 batches acknowledged"
    finally:
        ingest.stop()
    assert acks[0] == (protocol.ack_topic("gw-home"), protocol.Ack((7,), ())), "the SOS waited behind readings"
    assert [t for t, _a in acks[1:]] == [protocol.ack_topic(f"gw-load{i}") for i in range(5)], "readings reordered"


def test_carries_alarm_matches_encoded_alarm_batches_only():
    assert protocol.carries_alarm(batch("gw", 1, "alarm", 1))
    assert not protocol.carries_alarm(batch("gw", 1, "reading", 3))
    assert not protocol.carries_alarm(batch("gw", 1, "event", 1))
