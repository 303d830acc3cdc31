"""The ingest loop commits everything queued before it stops, and holds readings while the desk owes an alarm round."""

from __future__ import annotations

import threading
import time

import pytest

from anxin import protocol
from server.alarm_first import AlarmFirst
from server.db.session import create_schema, make_engine, session_factory
from server.ingest import Ingest


@pytest.fixture
def sessions(tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path}/ingest.db")
    create_schema(engine)
    yield session_factory(engine)
    engine.dispose()


def message(gw: str, seq: int) -> tuple[str, bytes]:
    ev = protocol.UplinkEvent(seq, "reading", 1_800_000_000.0, {"device": "d", "metric": "m", "values": {"v": 1}})
    return protocol.up_topic(gw), protocol.encode_batch(protocol.UplinkBatch(gw, "boot", (ev,)))


@pytest.mark.parametrize("started", [True, False])
def test_stop_commits_what_is_queued(sessions, started: bool) -> None:  # type: ignore[no-untyped-def]
    acked: list[str] = []
    ingest = Ingest(sessions, lambda topic, _p, _q: acked.append(topic), lambda _a: None, max_drain=3)
    if started:
        ingest.start()
    for i in range(20):
        ingest.on_message(*message(f"gw-{i}", 1))
    ingest.stop()
    assert len(acked) == 20
    assert not ingest.loop.is_alive()


def test_readings_wait_for_the_round_owed_to_a_new_alarm(sessions) -> None:  # type: ignore[no-untyped-def]
    first = AlarmFirst(hold_s=5)
    acked = threading.Event()
    ingest = Ingest(sessions, lambda *_a: acked.set(), lambda _a: None, alarm_first=first)
    first.announce()  # a new alarm the desk has not notified yet
    ingest.on_message(*message("gw-1", 1))
    ingest.start()
    try:
        assert not acked.wait(0.3), "readings were committed before the desk's round"
        first.round_done(first.round_begins())
        assert acked.wait(5)
    finally:
        first.close()
        ingest.stop()


def test_a_hold_is_given_up_after_hold_s() -> None:
    first = AlarmFirst(hold_s=0.1)
    first.announce()
    t0 = time.monotonic()
    assert first.hold_readings() and time.monotonic() - t0 < 2
    assert not first.hold_readings(), "given up for what was announced so far"
