"""The presence book: heartbeats held in memory, written to `gateways` in one go, nothing lost at stop."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from anxin import protocol
from server.db.models import DeadLetter, Gateway, as_utc
from server.db.session import create_schema, make_engine, session_factory
from server.ingest import Ingest
from server.presence_book import PresenceBook
from tests.unit.server.conftest import login

T0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


@pytest.fixture
def sessions(tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path}/presence.db")
    create_schema(engine)
    factory = session_factory(engine)
    with factory() as s, s.begin():
        s.add_all([Gateway(id=f"gw-{i}", state="unknown") for i in range(50)])
    yield factory
    engine.dispose()


def row(sessions, gw: str) -> Gateway:  # type: ignore[no-untyped-def]
    with sessions() as s:
        found = s.get(Gateway, gw)
        assert found is not None
        return found


def heartbeat(gw: str, batch_id: str = "hb-1", topic_gw: str | None = None) -> tuple[str, bytes]:
    """An empty uplink batch: what a quiet home sends to be known alive."""
    batch = protocol.UplinkBatch(gw, "boot-7", (), sent_at=T0.timestamp(), batch_id=batch_id)
    return protocol.up_topic(topic_gw or gw), protocol.encode_batch(batch)


def test_a_flush_writes_every_gateway_heard_since_the_last_one(sessions) -> None:  # type: ignore[no-untyped-def]
    book = PresenceBook(sessions, Counter())
    for i in range(50):
        book.heard(f"gw-{i}", T0 + timedelta(seconds=i), "boot-1")
    assert row(sessions, "gw-3").last_seen is None, "nothing written before the flush"
    assert book.flush() == 50
    seen = row(sessions, "gw-3")
    assert (seen.state, as_utc(seen.last_seen), seen.boot_id) == ("online", T0 + timedelta(seconds=3), "boot-1")
    assert book.flush() == 0, "nothing new: nothing written"


def test_later_news_wins_and_a_last_will_is_not_a_sign_of_life(sessions) -> None:  # type: ignore[no-untyped-def]
    book = PresenceBook(sessions, Counter())
    book.heard("gw-1", T0, "boot-1")
    book.flush()
    book.heard("gw-1", T0 + timedelta(seconds=10), "boot-2")  # rebooted
    book.state("gw-1", "offline", T0 + timedelta(seconds=20))  # then its connection was lost
    book.flush()
    gw = row(sessions, "gw-1")
    assert gw.state == "offline" and as_utc(gw.state_at) == T0 + timedelta(seconds=20)
    assert as_utc(gw.last_seen) == T0 + timedelta(seconds=10), "the broker's will does not count as hearing the home"
    assert gw.boot_id == "boot-2", "a new boot id reaches the table"
    book.heard("gw-1", T0 + timedelta(seconds=30))
    book.heard("gw-1", T0 + timedelta(seconds=40))
    book.flush()
    gw = row(sessions, "gw-1")
    assert (gw.state, as_utc(gw.state_at)) == ("online", T0 + timedelta(seconds=30)), "online since it came back"
    assert as_utc(gw.last_seen) == T0 + timedelta(seconds=40)


def test_an_older_note_never_moves_last_seen_back(sessions) -> None:  # type: ignore[no-untyped-def]
    """Two processes (a partition moving) may flush out of order: the newer sighting stays."""
    late, early = PresenceBook(sessions, Counter()), PresenceBook(sessions, Counter())
    late.heard("gw-2", T0 + timedelta(seconds=30))
    early.heard("gw-2", T0)
    late.flush()
    early.flush()
    assert as_utc(row(sessions, "gw-2").last_seen) == T0 + timedelta(seconds=30)


def test_a_failed_flush_keeps_its_notes_for_the_next_one(sessions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    counters: Counter[str] = Counter()
    book = PresenceBook(sessions, counters)
    book.heard("gw-4", T0)
    broken = make_engine(f"sqlite:///{tmp_path}/missing/none.db")  # a database that cannot be opened
    book.sessions = session_factory(broken)
    with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises, the notes must survive it
        book.flush()
    book.heard("gw-4", T0 + timedelta(seconds=5))  # heard again meanwhile
    book.heard("gw-5", T0 + timedelta(seconds=5))
    book.sessions = sessions
    assert book.flush() == 2
    assert as_utc(row(sessions, "gw-4").last_seen) == T0 + timedelta(seconds=5)
    assert counters["presence_flush_errors"] == 1, "counted, so /metrics shows it"
    broken.dispose()


def test_a_heartbeat_is_acknowledged_at_once_and_written_at_stop(sessions) -> None:  # type: ignore[no-untyped-def]
    """No transaction per heartbeat, yet a process that stops loses none of them."""
    acks: list[tuple[str, bytes]] = []
    ingest = Ingest(sessions, lambda t, p, _q: acks.append((t, p)), lambda _a: None, clock=lambda: T0)
    ingest.start()
    for i in range(20):
        ingest.on_message(*heartbeat(f"gw-{i}", f"hb-{i}"))
    ingest.stop()
    assert sorted(protocol.decode_ack(p).batch_id for _t, p in acks) == sorted(f"hb-{i}" for i in range(20))
    assert all(protocol.decode_ack(p).seqs == () for _t, p in acks), "an ack of nothing stored names nothing"
    with sessions() as s:
        heard = s.scalars(select(Gateway).where(Gateway.last_seen.is_not(None))).all()
    assert sorted(g.id for g in heard) == sorted(f"gw-{i}" for i in range(20)), "the stop flushed the book"
    assert {g.boot_id for g in heard} == {"boot-7"}


def test_a_heartbeat_for_someone_elses_topic_is_dead_lettered_not_noted(sessions) -> None:  # type: ignore[no-untyped-def]
    acks: list[str] = []
    ingest = Ingest(sessions, lambda t, _p, _q: acks.append(t), lambda _a: None, clock=lambda: T0)
    ingest.handle(*heartbeat("gw-1", topic_gw="gw-2"))
    ingest.stop()
    assert acks == []
    assert row(sessions, "gw-1").last_seen is None and row(sessions, "gw-2").last_seen is None
    with sessions() as s:
        assert [d.reason for d in s.scalars(select(DeadLetter))] == ["gateway id 'gw-1' does not match topic"]


def test_an_unregistered_gateway_heard_only_by_heartbeat_is_shown_to_staff(services, client) -> None:  # type: ignore[no-untyped-def]
    ingest = Ingest(services.sessions, lambda *_a: None, lambda _a: None)
    ingest.handle(*heartbeat("gw-stranger"))
    ingest.handle(protocol.state_topic("gw-nobody"), json.dumps({"v": 1, "state": "online"}).encode())
    ingest.stop()
    listed = client.get("/api/v1/gateways", headers=login(client, "duty")).json()
    shown = {g["id"]: g["state"] for g in listed}
    assert shown["gw-stranger"] == "online" and shown["gw-nobody"] == "online"
    assert ingest.counters["unregistered_gateways"] == 2, "counted on /metrics as well"
