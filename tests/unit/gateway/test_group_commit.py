"""Group commit of the home broker's readings (issue 24): a PUBACK only ever follows the commit of what
its message stored, a kill before the commit loses nothing that was acknowledged, and an alarm never
waits for the group — it is committed at once with a full fsync, taking the readings before it along."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from anxin.mqtt import Delivery
from gateway.config import DeviceConfig, GatewaySettings
from gateway.devices.router import Router
from gateway.outbox import Outbox
from gateway.outbox_db import connect
from gateway.rules.defaults import build_engine
from gateway.service import GROUP_MAX, Gateway


class Clock:
    def __init__(self) -> None:
        self.now = 1_764_316_800.0

    def __call__(self) -> float:
        return self.now


class Home:
    """A worker driven step by step, whose PUBACKs check the disk through a connection of their own."""

    def __init__(self, path: Path) -> None:
        self.settings = GatewaySettings(
            gateway_id="gw-t",
            resident="R001",
            data_dir=path,
            devices=[
                DeviceConfig(name="thermo", family="zigbee2mqtt", role="climate", model="WSDCGQ11LM"),
                DeviceConfig(name="button", family="zigbee2mqtt", role="sos_button", model="TS0215A_sos"),
            ],
        )
        self.clock = Clock()
        self.acked: list[int] = []
        self.wakes = 0
        self.open()

    def open(self) -> None:
        self.outbox = Outbox(connect(self.settings.outbox_path))
        self.outbox.recover(self.clock.now, self.clock.now)
        self.gw = Gateway(
            self.settings,
            Router(self.settings),
            build_engine(),
            self.outbox,
            publish_local=lambda t, p: None,
            wake_uplink=self.wake,
            clock=self.clock,
            monotonic=self.clock,
        )

    def wake(self) -> None:
        self.wakes += 1

    def on_disk(self, sql: str, *args: object) -> list[tuple]:
        """What another process would read from the outbox file now."""
        other = sqlite3.connect(self.settings.outbox_path)
        try:
            return other.execute(sql, args).fetchall()
        finally:
            other.close()

    def send(self, mid: int, topic: str, doc: dict, dup: bool = False) -> None:
        payload = json.dumps(doc).encode()

        def puback() -> None:
            key = Delivery(mid, dup, lambda: None).key(topic, payload)
            stored = self.on_disk("SELECT COUNT(*) FROM outbox WHERE src = ?", key)[0][0]
            assert stored > 0, f"PUBACK for message {mid} before what it stored was committed"
            self.acked.append(mid)

        self.gw.on_local_message(topic, payload, Delivery(mid, dup, puback))

    def reading(self, mid: int, dup: bool = False) -> None:
        self.send(mid, "zigbee2mqtt/thermo", {"temperature": 20 + mid / 100, "humidity": 40}, dup)

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            assert self.gw.loop.run_once()


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    h = Home(tmp_path)
    yield h
    h.outbox.close()


def test_pubacks_follow_the_group_commit_in_order(home: Home) -> None:
    for mid in range(1, 11):
        home.reading(mid)
    home.step(10)
    assert home.acked == [], "the queue is not empty yet: the group is still open"
    assert home.on_disk("SELECT COUNT(*) FROM outbox WHERE lane_name = 'reading'") == [(0,)]
    assert home.wakes == 0, "nothing to send before the commit"
    home.step()  # the queue is momentarily empty: commit, then acknowledge
    assert home.acked == list(range(1, 11))
    assert home.on_disk("SELECT COUNT(*) FROM outbox WHERE lane_name = 'reading'") == [(10,)]
    assert home.outbox.group_commits == 1 and home.wakes == 1


def test_a_group_is_committed_after_group_max_messages_even_while_more_wait(home: Home) -> None:
    for mid in range(1, GROUP_MAX + 6):
        home.reading(mid)
    home.step(GROUP_MAX)
    assert home.acked == list(range(1, GROUP_MAX + 1))
    home.step(6)
    assert home.acked == list(range(1, GROUP_MAX + 6))


def test_a_kill_between_insert_and_commit_loses_nothing_that_was_acknowledged(home: Home) -> None:
    for mid in range(1, 8):
        home.reading(mid)
    home.step(7)  # handled and inserted into the group, not committed
    assert home.acked == []
    home.outbox._conn.close()  # kill -9: the group dies with the process, and no PUBACK was sent
    home.open()
    assert home.outbox.count("reading") == 0
    for mid in range(1, 8):  # so the home broker redelivers every one of them, with the DUP flag
        home.reading(mid, dup=True)
    home.step(8)
    assert home.acked == list(range(1, 8))
    assert home.outbox.count("reading") == 7 and home.outbox.sources.skipped == 0, "stored once each"
    sources = home.on_disk("SELECT src, COUNT(*) FROM outbox WHERE lane_name = 'reading' GROUP BY src")
    assert len(sources) == 7 and all(n == 1 for _, n in sources)


def test_a_redelivery_of_a_message_whose_group_was_committed_stores_nothing_again(home: Home) -> None:
    for mid in range(1, 4):
        home.reading(mid)
    home.step(4)
    assert home.acked == [1, 2, 3]
    home.outbox._conn.close()  # killed after the commit (say the PUBACKs were lost on the way)
    home.open()
    for mid in range(1, 4):
        home.reading(mid, dup=True)
    home.step(4)
    assert home.outbox.count("reading") == 3 and home.outbox.sources.skipped == 3


def test_an_alarm_never_waits_for_the_reading_group(home: Home) -> None:
    statements: list[str] = []
    home.outbox._conn.set_trace_callback(statements.append)
    for mid in range(1, 6):
        home.reading(mid)
    home.send(6, "zigbee2mqtt/button", {"action": "emergency"})
    home.reading(7)
    home.step(6)  # five readings held in the group, then the SOS press
    alarms = home.on_disk("SELECT seq FROM outbox WHERE lane_name = 'alarm'")
    assert len(alarms) == 1, "the alarm is on disk at once, before the group's end"
    assert [e.seq for e in home.outbox.alarms()] == [alarms[0][0]], "and the uplink can send it"
    readings = home.on_disk("SELECT seq FROM outbox WHERE lane_name = 'reading'")
    assert len(readings) == 5 and max(readings)[0] < alarms[0][0], "the readings before it went along"
    alarm_commit = max(i for i, s in enumerate(statements) if s.startswith("INSERT INTO outbox"))
    syncs = [s for s in statements[:alarm_commit] if s.startswith("PRAGMA synchronous")]
    assert syncs[-1] == "PRAGMA synchronous=FULL", "the alarm's transaction is fsync'd"
    assert home.wakes >= 1
    home.step(2)
    assert home.acked == list(range(1, 8)), "acknowledged in order, each after its commit"


def test_group_writes_in_the_outbox_commit_only_on_flush_or_with_an_alarm(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    box = Outbox(connect(path))
    box.recover(1.7e9)

    def on_disk(sql: str) -> list[tuple]:
        other = sqlite3.connect(path)
        try:
            return other.execute(sql).fetchall()
        finally:
            other.close()

    with box.source("1:a", group=True):
        r1 = box.put("reading", {"metric": "m", "values": {"v": 1}}, 1.7e9)
        box.set_meta("forwarded", "[r1]")  # a memory written after the reading: never on disk without it
    assert box.buffered and box.count() == 0 and box.pending(10) == []
    assert on_disk(f"SELECT COUNT(*) FROM outbox WHERE seq = {r1}") == [(0,)]
    assert on_disk("SELECT value FROM meta WHERE key = 'forwarded'") == []
    assert box.get_meta("forwarded") == "[r1]"
    assert box.flush() == 1 and not box.buffered
    assert on_disk("SELECT value FROM meta WHERE key = 'forwarded'") == [("[r1]",)]
    with box.source("2:b", group=True):
        r2 = box.put("reading", {"metric": "m", "values": {"v": 2}}, 1.7e9)
        alarm = box.put_alarm({"type": "sos"}, 1.7e9)
    assert not box.buffered and [e.seq for e in box.pending(10)] == [alarm, r1, r2]
    # Another thread's writes never join the worker's group.
    with box.source("3:c", group=True):
        box.sources.owner = -1
        r3 = box.put("reading", {"metric": "m", "values": {"v": 3}}, 1.7e9)
    assert not box.buffered and r3 in {e.seq for e in box.pending(10)}
    box.close()


def test_a_kill_inside_a_group_that_crossed_a_reservation_leaves_every_number_accounted_for(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    box = Outbox(connect(path))
    box.recover(1.7e9)
    box._seq._block = 10  # a new reservation every ten numbers instead of every 10,000
    with box.source("1:a", group=True):
        for i in range(25):
            box.put("reading", {"metric": "m", "values": {"v": i}}, 1.7e9)
    box._conn.close()  # kill -9 with the last numbers still in the group
    box = Outbox(connect(path))
    box.recover(1.7e9)
    stored = {e.seq for e in box.pending(1000)}
    gaps = {n for e in box.pending(1000) if e.lane == "gap" for a, b in e.body["ranges"] for n in range(a, b + 1)}
    assert stored and all(n in stored or n in gaps for n in range(1, max(stored) + 1)), "a number nobody explains"
    box.close()
