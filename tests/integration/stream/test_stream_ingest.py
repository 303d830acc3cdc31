"""Gateways' MQTT through the NATS MQTT listener into JetStream, consumed by the server into PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import httpx
import nats
import psycopg
import pytest
from sqlalchemy import func, select

from anxin import protocol
from anxin.mqtt import BrokerAddress, MqttLink, make_client
from server.db.models import Alarm, IngestedEvent, Reading
from server.nats_config import partition_of
from server.runtime import ServerRuntime
from server.stream_setup import ALARM, MAX_ACK_PENDING, STREAM
from tests.conftest import POSTGRES_ADMIN_URL
from tests.integration.harness import provision, wait_until
from tests.integration.stream.nats_node import SERVER_NATS_USER, NatsNode

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


class StreamGateway:
    """A gateway as the server sees it: batches at QoS 1 to its MQTT topic, acks back on its ack topic."""

    def __init__(self, node: NatsNode, gateway_id: str, address: BrokerAddress | None = None) -> None:
        self.gw = gateway_id
        self.acked: set[int] = set()
        self.lock = threading.Lock()
        self.link = MqttLink(
            make_client(gateway_id),
            address or node.mqtt_address(gateway_id),
            self._on_ack,
            [(protocol.ack_topic(gateway_id), 1)],
        )

    def __enter__(self) -> StreamGateway:
        self.link.start()
        assert self.link.wait_connected(15), "the gateway could not log in to the NATS MQTT listener"
        return self

    def __exit__(self, *_exc: object) -> None:
        self.link.stop()

    def _on_ack(self, _topic: str, payload: bytes) -> None:
        with self.lock:
            self.acked.update(protocol.decode_ack(payload).seqs)

    def send(self, seqs: list[int], alarm: bool = False, topic: Callable[[str], str] = protocol.up_topic) -> None:
        """A batch on `topic`: /up as old gateways send everything, or the alarm topic as today's send alarms."""
        events = tuple(
            protocol.UplinkEvent(q, "alarm", time.time(), {"type": "sos", "severity": "emergency", "change": "raise"})
            if alarm
            else protocol.UplinkEvent(
                q, "reading", time.time(), {"device": "bp", "metric": "blood_pressure", "values": {"systolic": 120}}
            )
            for q in seqs
        )
        batch = protocol.UplinkBatch(self.gw, "boot", events, time.time())
        self.link.publish(topic(self.gw), protocol.encode_batch(batch), 1)

    def has_acks(self, seqs: range | list[int]) -> bool:
        with self.lock:
            return set(seqs) <= self.acked


def stored(server: ServerRuntime, model: type = IngestedEvent) -> int:
    with server.services.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_batches_through_the_nats_mqtt_listener_are_stored_and_acked(
    nats_node: NatsNode, stream_server: Callable[..., ServerRuntime], receiver
) -> None:
    server = stream_server()
    provision(server, 2, [receiver.url("/caregiver/{code}")])
    assert wait_until(lambda: len(server.stream.owned) == 16, timeout=30), "one process takes every partition"
    with StreamGateway(nats_node, "gw-r001") as gw:
        gw.send(list(range(1, 11)))
        gw.send([11], alarm=True)  # an old gateway: its alarm on /up, handled as before
        gw.send([12], alarm=True, topic=protocol.alarm_topic)  # today's: on its alarm topic, its own stream
        assert wait_until(lambda: gw.has_acks(range(1, 13)), timeout=30), (
            f"acked only {sorted(gw.acked)}; {server.stream.counters} {server.ingest.counters} {server.stream.lag}"
        )
    assert stored(server) == 12
    assert stored(server, Reading) == 10
    assert stored(server, IngestedEvent) - stored(server, Reading) == 2, "both alarm events stored"
    assert stored(server, Alarm) == 1, "the second press repeats the open SOS"
    assert wait_until(lambda: receiver.wait_for(1, 0.1), timeout=30), "the caregiver hears of the SOS"
    # JetStream was acked after the commit: nothing of that gateway's partition is left unsettled.
    assert wait_until(lambda: sum(server.stream.lag.values()) == 0 and server.stream.counters["acked"] >= 3, 15)
    assert wait_until(lambda: sum(server.stream.alarm_lag.values()) == 0, 15)
    assert wait_until(lambda: stream_messages(nats_node) == 0, 15), "a work queue: acked messages are gone"
    assert wait_until(lambda: stream_messages(nats_node, ALARM.stream) == 0, 15)
    health = httpx.get(f"{server.settings.base_url}/api/v1/health", timeout=10)
    assert health.status_code == 200, health.text
    metrics = httpx.get(f"{server.settings.base_url}/metrics", timeout=10).text
    assert "anxin_stream_partitions_owned 16.0" in metrics
    assert 'anxin_stream_messages_total{outcome="acked"}' in metrics
    assert f'anxin_stream_alarm_lag{{partition="{partition_of("gw-r001")}"}} 0.0' in metrics


def test_a_drain_the_database_refused_is_delivered_again_by_jetstream_and_stored_once(
    nats_node: NatsNode, stream_server: Callable[..., ServerRuntime], postgres_url: str, receiver
) -> None:
    server = stream_server()
    provision(server, 1, [receiver.url("/caregiver/{code}")])
    assert wait_until(lambda: len(server.stream.owned) == 16, timeout=30)
    name = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin, StreamGateway(nats_node, "gw-r001") as gw:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        try:
            gw.send([1, 2, 3])
            gw.send([4], alarm=True)
            # The database is down: the server could not commit, so nothing is acked, to the gateway or JetStream.
            assert wait_until(lambda: server.stream.counters["naked"] >= 2, timeout=30), server.stream.counters
            assert not gw.acked
            assert server.stream.counters["acked"] == 0
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        # No resend from the gateway: JetStream delivers the messages again and they are stored.
        assert wait_until(lambda: gw.has_acks(range(1, 5)), timeout=60), server.stream.counters
    assert server.stream.counters["redelivered"] >= 2
    assert stored(server) == 4 and stored(server, Alarm) == 1
    assert wait_until(lambda: sum(server.stream.lag.values()) == 0, timeout=15)
    assert stored(server) == 4, "stored once"


def test_alarms_overtake_readings_fetched_from_the_stream(
    nats_node: NatsNode, stream_server: Callable[..., ServerRuntime], receiver
) -> None:
    first = stream_server()  # creates the stream and its consumers, then goes away
    provision(first, 8, [receiver.url("/caregiver/{code}")])
    first.stop()
    gateways = [StreamGateway(nats_node, f"gw-r{i:03d}").__enter__() for i in range(1, 9)]
    try:
        for gw in gateways:
            for b in range(20):
                gw.send(list(range(b * 10 + 1, b * 10 + 11)))
        gateways[0].send([201], alarm=True)  # behind 20 batches of readings in its own partition
        assert wait_until(lambda: stream_messages(nats_node) == 161, timeout=30)
        server = stream_server(start=False)
        ingest_start = server.ingest.start
        server.ingest.start = lambda: None  # type: ignore[method-assign]  # started below, once all is fetched
        server.start()
        # Fetched eagerly: everything waits in the server's alarm-first queue, none of it in JetStream.
        assert wait_until(lambda: server.ingest.queue._queue.qsize() == 161, timeout=30)
        ingest_start()
        assert wait_until(lambda: all(gw.has_acks(range(1, 201)) for gw in gateways), timeout=60)
        assert wait_until(lambda: gateways[0].has_acks([201]), timeout=10)
        with server.services.sessions() as s:
            order = list(s.scalars(select(IngestedEvent.lane).order_by(IngestedEvent.id)))
        assert order[0] == "alarm", "the alarm was committed before every reading"
    finally:
        for gw in gateways:
            gw.__exit__()


@pytest.mark.slow
def test_an_sos_on_the_alarm_topic_is_committed_before_a_backlog_of_readings_in_its_partition(
    nats_node: NatsNode, stream_server: Callable[..., ServerRuntime], receiver
) -> None:
    """More reading batches than the partition's fetch window (MAX_ACK_PENDING) wait in JetStream, then an SOS:
    on its own subject it is fetched at once and committed first (on /up it waited behind the window)."""
    first = stream_server()  # creates the streams and their consumers, then goes away
    provision(first, 1, [receiver.url("/caregiver/{code}")])
    first.stop()
    backlog = MAX_ACK_PENDING + 188  # 700 batches of 10 readings, as measured in docs/decisions.md
    with StreamGateway(nats_node, "gw-r001") as gw:
        for b in range(backlog):
            gw.send(list(range(b * 10 + 1, b * 10 + 11)))
        sos = backlog * 10 + 1
        gw.send([sos], alarm=True, topic=protocol.alarm_topic)
        assert wait_until(lambda: stream_messages(nats_node) == backlog, timeout=60)
        assert wait_until(lambda: stream_messages(nats_node, ALARM.stream) == 1, timeout=30)
        server = stream_server(start=False)
        ingest_start = server.ingest.start
        server.ingest.start = lambda: None  # type: ignore[method-assign]  # started below, once all is fetched
        server.start()
        # The readings' window is full (the rest waits in JetStream); the SOS was fetched all the same.
        assert wait_until(lambda: server.ingest.queue._queue.qsize() == MAX_ACK_PENDING + 1, timeout=60)
        started = time.monotonic()
        ingest_start()
        assert wait_until(lambda: gw.has_acks([sos]), timeout=60), "the SOS is acknowledged"
        sos_after = time.monotonic() - started
        assert wait_until(lambda: gw.has_acks(range(1, sos)), timeout=120), "every reading is stored too"
        print(
            f"SOS acknowledged {sos_after:.3f} s after ingest started, all readings after {time.monotonic() - started:.3f} s"
        )
    with server.services.sessions() as s:
        order = list(s.scalars(select(IngestedEvent.lane).order_by(IngestedEvent.id)))
    assert order[0] == "alarm" and len(order) == sos, "the SOS was committed before every reading"
    assert wait_until(lambda: receiver.wait_for(1, 0.1), timeout=30), "the caregiver hears of the SOS"


def stream_messages(node: NatsNode, stream: str = STREAM) -> int:
    """How many messages a stream (ANXIN_UP unless said) holds (through the node's JetStream API)."""

    async def count() -> int:
        nc = await nats.connect(node.url, user=SERVER_NATS_USER, password=node.password)
        try:
            return int((await nc.jetstream().stream_info(stream)).state.messages)
        finally:
            await nc.close()

    return asyncio.run(count())


def test_a_stream_made_by_hand_in_another_shape_is_reported(
    nats_node: NatsNode, stream_server: Callable[..., ServerRuntime]
) -> None:
    async def limits_stream() -> None:
        nc = await nats.connect(nats_node.url, user=SERVER_NATS_USER, password=nats_node.password)
        try:
            await nc.jetstream().add_stream(name=STREAM, subjects=["anxin.up.>"])  # limits retention
        finally:
            await nc.close()

    asyncio.run(limits_stream())
    server = stream_server()

    def reported() -> bool:
        r = httpx.get(f"{server.settings.base_url}/api/v1/health", timeout=10)
        return r.status_code == 503 and "work queue" in r.json()["intake"]

    assert wait_until(reported, timeout=30), server.stream.health()
