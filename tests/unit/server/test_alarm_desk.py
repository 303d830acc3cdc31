"""The alarm desk on a real SQLite database: one active alarm per type, audited transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server import alarms as desk
from server.db.models import Alarm, AlarmAudit
from server.db.session import create_schema, make_engine, session_factory
from server.errors import Conflict
from server.links import BadLink, LinkClaim, LinkSigner

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/desk.db")
    create_schema(engine)
    yield session_factory(engine)
    engine.dispose()


def raise_(s, seq, change="raise", type_="sos"):
    return desk.apply_gateway_alarm(
        s,
        "gw-1",
        seq,
        None,
        {"type": type_, "severity": "emergency", "change": change},
        T0,
        T0 + timedelta(seconds=seq),
    )


def test_repeats_update_the_open_alarm_instead_of_piling_up(sessions):
    with sessions() as s, s.begin():
        first = raise_(s, 1)
        again = raise_(s, 2)
        other = raise_(s, 3, type_="fall")
    assert first.new and not again.new and other.new
    with sessions() as s:
        assert s.query(Alarm).count() == 2
        assert s.get(Alarm, first.alarm.id).repeat_count == 1


def test_cancel_is_recorded_and_a_new_press_opens_a_new_alarm(sessions):
    with sessions() as s, s.begin():
        first = raise_(s, 1)
        raise_(s, 2, change="cancel")
        second = raise_(s, 3)
    assert second.new and second.alarm.id != first.alarm.id
    with sessions() as s:
        assert s.get(Alarm, first.alarm.id).status == "cancelled"
        trail = [a.action for a in s.query(AlarmAudit).filter_by(alarm_id=first.alarm.id).order_by(AlarmAudit.id)]
        assert trail == ["raised", "cancelled"]


def test_ack_then_resolve_and_no_resolving_twice(sessions):
    with sessions() as s, s.begin():
        alarm_id = raise_(s, 1).alarm.id
    with sessions() as s, s.begin():
        _, first = desk.acknowledge(s, alarm_id, "赵", "console", T0)
    with sessions() as s, s.begin():
        _, again = desk.acknowledge(s, alarm_id, "钱", "console", T0)
    assert first and not again
    with sessions() as s, s.begin():
        desk.resolve(s, alarm_id, "赵", "helped_at_home", "扶起，无外伤", T0)
    with sessions() as s, s.begin(), pytest.raises(Conflict):
        desk.resolve(s, alarm_id, "赵", "helped_at_home", None, T0)
    with sessions() as s, s.begin(), pytest.raises(Conflict, match="unknown outcome"):
        desk.resolve(s, alarm_id, "赵", "whatever", None, T0)


def test_links_are_signed_and_expire():
    signer = LinkSigner("secret", ttl_s=60)
    token = signer.sign(LinkClaim(5, 9))
    assert signer.check(token) == LinkClaim(5, 9)
    with pytest.raises(BadLink):
        signer.check(token[:-2] + "xx")
    with pytest.raises(BadLink, match="expired"):
        LinkSigner("secret", ttl_s=-1).check(token)
    with pytest.raises(BadLink):
        LinkSigner("other secret", ttl_s=60).check(token)
