"""Ingest tells the stream which messages it settled: only after their drain is committed, never before."""

from __future__ import annotations

from sqlalchemy import create_engine

from anxin import protocol
from server.db.session import create_schema, make_engine, session_factory
from server.ingest import Ingest


def batch(gw: str, seq: int, alarm: bool = False) -> tuple[str, bytes]:
    body = (
        {"type": "sos", "severity": "emergency", "change": "raise"}
        if alarm
        else {"device": "d", "metric": "m", "values": {"v": 1}}
    )
    ev = protocol.UplinkEvent(seq, "alarm" if alarm else "reading", 1_800_000_000.0, body)
    return protocol.up_topic(gw), protocol.encode_batch(protocol.UplinkBatch(gw, "boot", (ev,)))


def test_committed_drains_are_settled_alarms_first(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path}/i.db")
    create_schema(engine)
    settled: list[tuple[list[object], bool]] = []
    ingest = Ingest(
        session_factory(engine), lambda *_a: None, lambda _a: None, on_settled=lambda t, ok: settled.append((t, ok))
    )
    ingest.on_message(*batch("gw-1", 1), token="r1")
    ingest.on_message(*batch("gw-1", 2), token="r2")
    ingest.on_message(*batch("gw-2", 1, alarm=True), token="a1")
    ingest.on_message("anxin/v1/gw/gw-1/up", b"not json", token="bad")  # dead-lettered: settled too
    ingest.stop()  # drains what is queued on this thread
    assert settled[0] == (["a1"], True), "the alarm's drain is committed and settled first"
    assert sorted(t for tokens, ok in settled[1:] if ok for t in tokens) == ["bad", "r1", "r2"]
    engine.dispose()


def test_a_drain_the_database_refuses_is_not_settled(tmp_path) -> None:  # type: ignore[no-untyped-def]
    down = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1})
    settled: list[tuple[list[object], bool]] = []
    ingest = Ingest(
        session_factory(down), lambda *_a: None, lambda _a: None, on_settled=lambda t, ok: settled.append((t, ok))
    )
    ingest.on_message(*batch("gw-1", 1), token="r1")
    ingest.on_message(*batch("gw-2", 1), token="r2")
    ingest.stop()
    assert settled and all(not ok for _t, ok in settled)
    assert sorted(t for tokens, _ok in settled for t in tokens) == ["r1", "r2"]
