"""The in-process hub: committed alarm changes reach subscribers; rolled-back ones do not."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from server import alarms as desk
from server.db.models import Alarm, Gateway
from server.db.session import create_schema, make_engine, session_factory
from server.events import Change, EventHub, watch

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/hub.db")
    create_schema(engine)
    yield session_factory(engine)
    engine.dispose()


def raise_alarm(sessions) -> int:
    with sessions() as s, s.begin():
        change = desk.apply_gateway_alarm(s, "gw-1", 1, None, {"type": "sos", "severity": "emergency"}, NOW, NOW)
        return change.alarm.id


async def next_change(sub, timeout: float = 5.0) -> Change | None:
    return await asyncio.wait_for(sub.queue.get(), timeout)


def test_commits_from_other_threads_reach_the_subscriber(sessions):
    hub = EventHub()
    watch(sessions, hub)

    async def scenario():
        sub = hub.subscribe()
        alarm_id = await asyncio.to_thread(raise_alarm, sessions)
        assert (await next_change(sub)).alarm_ids == {alarm_id}

        def ack():
            with sessions() as s, s.begin():
                desk.acknowledge(s, alarm_id, "赵", "console", NOW)

        await asyncio.to_thread(ack)
        assert (await next_change(sub)).alarm_ids == {alarm_id}

        def note():
            with sessions() as s, s.begin():
                desk.add_note(s, alarm_id, "赵", "called", NOW)  # only an audit row is written

        await asyncio.to_thread(note)
        assert (await next_change(sub)).alarm_ids == {alarm_id}
        hub.unsubscribe(sub)
        assert hub.subscribers == 0

    asyncio.run(scenario())


def test_rolled_back_changes_are_not_published_and_gateway_updates_are_quiet(sessions):
    hub = EventHub()
    watch(sessions, hub)

    async def scenario():
        sub = hub.subscribe()

        def rolled_back_then_quiet_then_real():
            with sessions() as s:
                s.add(Alarm(gateway_id="gw-1", type="sos", severity="emergency"))
                s.flush()
                s.rollback()
            with sessions() as s, s.begin():
                s.add(Gateway(id="gw-2", state="online"))  # every uplink batch touches its gateway
            return raise_alarm(sessions)

        real = await asyncio.to_thread(rolled_back_then_quiet_then_real)
        assert (await next_change(sub)).alarm_ids == {real}, "something else reached the pages first"

    asyncio.run(scenario())


def test_close_ends_every_stream():
    hub = EventHub()

    async def scenario():
        sub = hub.subscribe()
        hub.close()
        assert await next_change(sub) is None and hub.closed

    asyncio.run(scenario())
