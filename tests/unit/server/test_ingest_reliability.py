"""Ingest's delivery semantics on a real SQLite database: ack after commit, duplicates, gaps,
dead letters, clock correction, and the SMS story of an alarm."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from anxin import protocol
from server.db.models import Alarm, AlarmAudit, DeadLetter, IngestedEvent
from server.db.session import create_schema, make_engine, session_factory
from server.ingest import Ingest
from server.ingest_checks import corrected_time
from server.reliability import sequence_report

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
GW = "gw-u1"


@pytest.fixture
def ingest(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/s.db")
    create_schema(engine)
    sent: list[tuple[str, bytes]] = []
    ing = Ingest(session_factory(engine), lambda t, p, q: sent.append((t, p)), lambda _a: None, clock=lambda: NOW)
    ing.sent = sent  # type: ignore[attr-defined]
    yield ing
    engine.dispose()


def batch(*events: protocol.UplinkEvent, sent_at: float | None = None, synced: bool = True) -> bytes:
    return protocol.encode_batch(
        protocol.UplinkBatch(GW, "boot-1", events, NOW.timestamp() if sent_at is None else sent_at, synced)
    )


def reading(seq: int, value: float = 120.0) -> protocol.UplinkEvent:
    return protocol.UplinkEvent(
        seq, "reading", NOW.timestamp(), {"device": "bpm", "metric": "bp", "values": {"systolic": value}}
    )


def alarm(seq: int, **extra) -> protocol.UplinkEvent:
    return protocol.UplinkEvent(
        seq, "alarm", NOW.timestamp(), {"type": "sos", "severity": "emergency", "change": "raise", **extra}
    )


def last_ack(ing) -> protocol.Ack:
    topic, payload = ing.sent[-1]
    assert topic == protocol.ack_topic(GW)
    return protocol.decode_ack(payload)


def test_ack_lists_committed_and_rejected_and_duplicates_are_not_stored_twice(ingest):
    bad = protocol.UplinkEvent(3, "reading", NOW.timestamp(), {"metric": "bp", "values": {"systolic": "high"}})
    ingest.handle(protocol.up_topic(GW), batch(alarm(1), reading(2), bad))
    assert last_ack(ingest) == protocol.Ack((1, 2), (3,), upto=3)
    ingest.handle(protocol.up_topic(GW), batch(alarm(1), reading(2), bad, reading(4)))
    assert last_ack(ingest) == protocol.Ack((1, 2, 4), (3,), upto=4)
    with ingest.sessions() as s:
        assert sorted(e.seq for e in s.query(IngestedEvent)) == [1, 2, 4]
        assert s.query(Alarm).count() == 1
        dead = s.query(DeadLetter).all()
        assert [(d.gateway_id, d.seq) for d in dead] == [(GW, 3)], "the invalid event is kept for admins"
        assert "non-numeric" in dead[0].reason
    assert ingest.counters["duplicates"] == 3


def test_cumulative_ack_stops_at_a_hole_and_passes_a_gap_record(ingest):
    ingest.handle(protocol.up_topic(GW), batch(reading(1), reading(2), reading(5)))
    assert last_ack(ingest).upto == 2, "3 and 4 may still be in flight"
    ingest.handle(protocol.up_topic(GW), batch(reading(3)))
    assert last_ack(ingest).upto == 3
    gap = protocol.UplinkEvent(6, "gap", NOW.timestamp(), {"reason": "disk_cap", "ranges": [[4, 4]], "count": 1})
    ingest.handle(protocol.up_topic(GW), batch(gap))
    assert last_ack(ingest).upto == 6


def test_filling_a_hole_moves_the_cumulative_ack_past_what_was_stored_or_rejected_behind_it(ingest):
    other = "gw-u2"
    bad = protocol.UplinkEvent(4, "reading", NOW.timestamp(), {"metric": "bp", "values": {"systolic": "high"}})
    ingest.handle(protocol.up_topic(GW), batch(reading(1), reading(2), bad, reading(5)))
    assert last_ack(ingest).upto == 2
    # One drain holding this gateway's missing 3 and another gateway's ordinary first batch.
    other_batch = protocol.encode_batch(
        protocol.UplinkBatch(other, "boot-9", (reading(1), reading(2)), NOW.timestamp(), True)
    )
    ingest.handle_many([(protocol.up_topic(GW), batch(reading(3))), (protocol.up_topic(other), other_batch)])
    acks = {t: protocol.decode_ack(p) for t, p in ingest.sent[-2:]}
    assert acks[protocol.ack_topic(GW)].upto == 5, "3 fills the hole; rejected 4 and stored 5 are behind it"
    assert acks[protocol.ack_topic(other)].upto == 2


def test_undecodable_message_is_dead_lettered_not_acked(ingest):
    ingest.handle(protocol.up_topic(GW), b"\xff not json")
    assert ingest.sent == []
    with ingest.sessions() as s:
        assert s.query(DeadLetter).one().reason.startswith("not JSON")


def test_gaps_are_detected_and_gap_records_explain_them(ingest):
    gap = protocol.UplinkEvent(9, "gap", NOW.timestamp(), {"reason": "disk_cap", "ranges": [[3, 5]], "count": 3})
    ingest.handle(protocol.up_topic(GW), batch(reading(1), reading(2), reading(6), reading(8), gap))
    with ingest.sessions() as s:
        report = sequence_report(s, GW)
    assert report.missing == [[3, 5], [7, 7]]
    assert report.unexplained == [[7, 7]] and report.unexplained_count == 1
    assert report.last_seq == 9 and report.received == 5


def test_clock_of_1970_is_corrected_and_marked():
    received = NOW
    b = protocol.UplinkBatch(GW, "boot", (), sent_at=100.0, clock_synced=False)
    at, corrected = corrected_time(90.0, b, received)
    assert corrected and at == received - timedelta(seconds=10)
    far = protocol.UplinkBatch(GW, "boot", (), sent_at=(NOW - timedelta(hours=3)).timestamp(), clock_synced=True)
    at, corrected = corrected_time(far.sent_at - 5, far, received)
    assert corrected and abs((at - (received - timedelta(seconds=5))).total_seconds()) < 1e-3
    good = protocol.UplinkBatch(GW, "boot", (), sent_at=(NOW - timedelta(seconds=2)).timestamp(), clock_synced=True)
    at, corrected = corrected_time(good.sent_at, good, received)
    assert not corrected


def test_event_from_unsynchronised_gateway_is_stored_corrected(ingest):
    ingest.handle(
        protocol.up_topic(GW),
        batch(protocol.UplinkEvent(1, "reading", 50.0, reading(1).body), sent_at=60.0, synced=False),
    )
    with ingest.sessions() as s:
        ev = s.query(IngestedEvent).one()
        assert ev.ts_corrected
        assert abs((ev.gateway_ts.replace(tzinfo=UTC) - (NOW - timedelta(seconds=10))).total_seconds()) < 1


def test_sms_story_is_audited_even_when_it_comes_with_a_duplicate(ingest):
    ingest.handle(protocol.up_topic(GW), batch(alarm(1)))
    sms = {"at": NOW.timestamp(), "delivered_to": ["+86138"], "attempts": [{"to": "+86138", "ok": True}]}
    ingest.handle(protocol.up_topic(GW), batch(alarm(1, sms=sms)))  # our ack was lost; the gateway texted
    ingest.handle(protocol.up_topic(GW), batch(alarm(1, sms=sms)))
    with ingest.sessions() as s:
        a = s.query(Alarm).one()
        actions = [x.action for x in s.query(AlarmAudit).filter_by(alarm_id=a.id).order_by(AlarmAudit.id)]
        assert actions == ["raised", "sms_sent_by_gateway"]
        assert a.detail["sms_fallback"]["delivered_to"] == ["+86138"]


def test_reliability_api_for_supervisors(services, client):
    from tests.unit.server.conftest import login

    ing = Ingest(services.sessions, lambda t, p, q: None, lambda _a: None, clock=lambda: NOW)
    bad = protocol.UplinkEvent(4, "reading", NOW.timestamp(), {"metric": "bp", "values": {"systolic": "high"}})
    ing.handle(protocol.up_topic(GW), batch(reading(1), reading(3), bad, reading(5)))
    url = f"/api/v1/reliability/gateways/{GW}/sequence"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=login(client, "duty")).status_code == 403
    seq = client.get(url, headers=login(client, "supervisor")).json()
    assert seq["missing"] == [[2, 2], [4, 4]] and seq["accounted"] == [[4, 4]], "a rejected event is accounted for"
    assert seq["unexplained"] == [[2, 2]] and seq["unexplained_count"] == 1
    dead = client.get("/api/v1/dead-letters", headers=login(client, "admin")).json()
    assert [(d["gateway_id"], d["seq"]) for d in dead] == [(GW, 4)]


def test_an_ack_that_cannot_be_published_does_not_drop_the_rest_of_the_drain(tmp_path):
    """The link to the broker drops (the intake probe forces a reconnect, a broker blip) between the
    commit and the acks: the other homes' new alarms must still reach the desk at once, and a gateway's
    last will that came in the same drain must still mark it offline."""
    from anxin.mqtt import BrokerAddress, MqttLink, make_client
    from server.db.models import Gateway

    engine = make_engine(f"sqlite:///{tmp_path}/s.db")
    create_schema(engine)
    down = MqttLink(make_client("server-link-down"), BrokerAddress("127.0.0.1", 1), lambda t, p: None)
    announced: list[int] = []
    ing = Ingest(session_factory(engine), lambda t, p, q: down.publish(t, p, q), announced.append, clock=lambda: NOW)
    other = "gw-u2"
    second = protocol.encode_batch(protocol.UplinkBatch(other, "boot-1", (alarm(1),), NOW.timestamp()))
    ing.handle_many(
        [
            (protocol.up_topic(GW), batch(alarm(1))),
            (protocol.up_topic(other), second),
            (protocol.state_topic(other), b'{"v":1,"state":"offline"}'),
        ]
    )
    ing.pipeline.presence.flush()  # presence reaches the table with the book's next flush
    with ing.sessions() as s:
        assert s.query(Alarm).count() == 2
        assert len(announced) == 2, "each committed alarm is handed to the desk"
        assert s.get(Gateway, other).state == "offline"
    engine.dispose()


def test_an_alarm_that_waited_for_a_busy_connection_pool_is_not_dead_lettered(tmp_path):
    """Every database connection is busy (a burst of console requests): the commit times out waiting
    for one. That is the database's state, not the alarm's fault: the alarm must stay unacknowledged
    (the gateway resends it), never be dead-lettered and acknowledged as rejected when a connection
    frees just in time for the dead letter — the gateway would then delete the SOS from its outbox."""
    import logging

    from sqlalchemy import create_engine

    engine = create_engine(
        f"sqlite:///{tmp_path}/s.db",
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.2,
        connect_args={"check_same_thread": False},
    )
    create_schema(engine)
    sent: list[tuple[str, bytes]] = []
    ing = Ingest(session_factory(engine), lambda t, p, q: sent.append((t, p)), lambda _a: None, clock=lambda: NOW)
    ing.sent = sent  # type: ignore[attr-defined]
    busy = engine.connect()  # the pool's only connection, held elsewhere

    class FreesTheConnection(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "dead letter" in record.getMessage() and not busy.closed:
                busy.close()  # the burst ends just as the dead letter is written

    handler = FreesTheConnection()
    logging.getLogger("server.ingest_letters").addHandler(handler)
    try:
        with contextlib.suppress(Exception):
            ing.handle(protocol.up_topic(GW), batch(alarm(1)))
    finally:
        logging.getLogger("server.ingest_letters").removeHandler(handler)
        if not busy.closed:
            busy.close()
    rejected = [s for t, p in sent for s in protocol.decode_ack(p).rejected]
    assert rejected == [], "the SOS was acknowledged as rejected: the gateway forgets it"
    with ing.sessions() as s:
        assert s.query(DeadLetter).count() == 0
    ing.handle(protocol.up_topic(GW), batch(alarm(1)))  # the resend, with connections free again
    assert last_ack(ing).seqs == (1,)
    with ing.sessions() as s:
        assert s.query(Alarm).count() == 1
    engine.dispose()


def test_a_last_will_in_a_drain_whose_commit_cannot_reach_the_database_is_not_lost(tmp_path):
    """A home's last will came in the same drain as another home's reading while the database was busy
    (every pooled connection taken): the reading stays unacknowledged and is resent, but the will is the
    broker's one message about that home. It must still reach the desk (after the 1-minute grace), not
    wait 10 minutes for the home to count as silent."""
    from sqlalchemy import create_engine

    from server.db.models import Gateway

    engine = create_engine(
        f"sqlite:///{tmp_path}/s.db",
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.1,
        connect_args={"check_same_thread": False},
    )
    create_schema(engine)
    sessions = session_factory(engine)
    with sessions() as s, s.begin():
        s.add(Gateway(id="gw-gone", state="online", state_at=NOW, last_seen=NOW))
    ing = Ingest(sessions, lambda *_a: None, lambda _a: None, clock=lambda: NOW)
    will = (protocol.state_topic("gw-gone"), b'{"v": 1, "state": "offline"}')
    busy = engine.connect()  # the pool's only connection, held elsewhere
    try:
        with contextlib.suppress(Exception):
            ing.pipeline.handle_many([(protocol.up_topic(GW), batch(reading(1))), will])
    finally:
        busy.close()
    ing.stop()  # writes the presence book
    with sessions() as s:
        gone = s.get(Gateway, "gw-gone")
        assert gone is not None and gone.state == "offline", "the last will was dropped with the failed commit"
    engine.dispose()
