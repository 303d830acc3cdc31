"""What the stream's pull loops hold until Ingest settles it: acked after the commit, a redelivery queued once,
a long wait kept alive."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace

from server.stream_fetch import PartitionFetch
from server.stream_setup import ALARM


@dataclass
class FakeMsg:
    """The parts of a nats-py JetStream message the pull loop uses; records what was answered."""

    subject: str
    seq: int
    delivered: int = 1
    data: bytes = b"{}"
    answers: list[str] = field(default_factory=list)

    @property
    def metadata(self) -> SimpleNamespace:
        return SimpleNamespace(num_delivered=self.delivered, sequence=SimpleNamespace(stream=self.seq))

    async def ack(self) -> None:
        self.answers.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.answers.append("nak")

    async def in_progress(self) -> None:
        self.answers.append("wip")

    async def term(self) -> None:
        self.answers.append("term")


class FakeIngest:
    def __init__(self) -> None:
        self.queued: list[tuple[str, object]] = []

    def on_message(self, topic: str, _payload: bytes, token: object = None) -> None:
        self.queued.append((topic, token))


def run(body) -> None:  # type: ignore[no-untyped-def]
    async def main() -> None:
        await body()
        await asyncio.sleep(0)  # the spawned answers run
        await asyncio.sleep(0)

    asyncio.run(main())


def test_acked_only_when_settled_and_a_redelivery_is_queued_once() -> None:
    ingest, now = FakeIngest(), [0.0]
    fetch = PartitionFetch(ingest, Counter(), lambda: now[0])  # type: ignore[arg-type]
    first, again = FakeMsg("anxin.up.3.gw-1.up", 7), FakeMsg("anxin.up.3.gw-1.up", 7, delivered=2)
    naked = FakeMsg("anxin.up.3.gw-2.up", 8)

    async def body() -> None:
        fetch._hand(3, first)
        fetch._hand(3, naked)
        fetch._hand(3, again)  # the ack wait ran out while it was queued
        assert [t for t, _ in ingest.queued] == ["anxin/v1/gw/gw-1/up", "anxin/v1/gw/gw-2/up"]
        fetch.settle([ingest.queued[0][1]], True)
        fetch.settle([ingest.queued[1][1]], False)

    run(body)
    assert again.answers == ["ack"] and first.answers == [], "the latest delivery is the one answered"
    assert naked.answers == ["nak"], "the database did not take it: JetStream delivers it again"
    assert not fetch.unsettled(3)
    assert fetch.counters == Counter({"acked": 1, "naked": 1, "redelivered": 1})


def test_a_long_wait_in_the_queue_is_kept_alive() -> None:
    ingest, now = FakeIngest(), [0.0]
    fetch = PartitionFetch(ingest, Counter(), lambda: now[0])  # type: ignore[arg-type]
    old, new = FakeMsg("anxin.up.1.gw-1.up", 1), FakeMsg("anxin.up.1.gw-1.up", 2)

    async def body() -> None:
        fetch._hand(1, old)
        now[0] = 15.0
        fetch._hand(1, new)
        fetch.keep_waiting()

    run(body)
    assert old.answers == ["wip"] and new.answers == []


def test_a_subject_that_is_not_an_uplink_is_dropped_from_the_stream() -> None:
    ingest = FakeIngest()
    fetch = PartitionFetch(ingest, Counter())  # type: ignore[arg-type]
    odd = FakeMsg("anxin.up.1.gw-1.cmd", 1)

    async def body() -> None:
        fetch._hand(1, odd)

    run(body)
    assert odd.answers == ["term"] and not ingest.queued and fetch.counters["invalid"] == 1


def test_alarms_from_their_own_stream_are_queued_and_settled_apart_from_readings() -> None:
    ingest = FakeIngest()
    fetch = PartitionFetch(ingest, Counter())  # type: ignore[arg-type]
    reading, alarm = FakeMsg("anxin.up.2.gw-1.up", 5), FakeMsg("anxin.alarm.2.gw-1.alarm", 5)  # same seq, two streams
    misplaced = FakeMsg("anxin.up.2.gw-1.up", 6)  # a readings subject cannot come from the alarm stream

    async def body() -> None:
        fetch._hand(2, reading)
        fetch._hand(2, alarm, ALARM)
        fetch._hand(2, misplaced, ALARM)
        assert [t for t, _ in ingest.queued] == ["anxin/v1/gw/gw-1/up", "anxin/v1/gw/gw-1/alarm"]
        assert fetch.unsettled(2) == 2
        fetch.settle([ingest.queued[1][1]], True)

    run(body)
    assert alarm.answers == ["ack"] and reading.answers == [], "each stream's message is answered on its own"
    assert misplaced.answers == ["term"] and fetch.unsettled(2) == 1
