"""The NATS cluster authenticates and confines: each attack on it is tried and shown to fail.

Anonymous and wrong logins (MQTT and NATS), a gateway speaking for another or reading its acks and
commands, a gateway reaching JetStream's API (read or delete the stream), a rogue node joining the
cluster without the route password. The files are the ones `anxin-server nats-config` writes.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import nats
import pytest
from nats.aio.client import Client as NATS
from nats.js.api import StreamConfig

from anxin import protocol
from anxin.mqtt import BrokerAddress, MqttLink
from anxin.ports import free_port, wait_for_port
from firmware_sim.nats_cluster import NATS_SERVER, NatsCluster
from server.nats_config import SERVER_NATS_USER, partition_of
from server.nats_setup import remove_gateway
from tests.integration.harness import wait_until

A, B = "gw-a", "gw-b"
PASSWORDS = {A: "password-of-a", B: "password-of-b"}
QUIET = 1.0  # how long an attacker listens for what must never come


T = TypeVar("T")


def as_server(cluster: NatsCluster, action: Callable[[NATS], Awaitable[T]]) -> T:
    """Run `action` on a connection of the server's NATS user (the only user with JetStream rights)."""

    async def run() -> T:
        nc = await nats.connect(cluster.nats_urls(), user=SERVER_NATS_USER, password=cluster.server_nats_password)
        try:
            result = await action(nc)
            await nc.flush()
            return result
        finally:
            await nc.close()

    return asyncio.run(run())


@pytest.fixture
def cluster(nats_cluster_factory: Callable[..., NatsCluster]) -> NatsCluster:
    """One node is enough for the users and permissions (the same accounts file on every node), the stream made."""
    made = nats_cluster_factory(1, PASSWORDS)
    as_server(made, lambda nc: nc.jetstream().add_stream(StreamConfig(name="ANXIN_UP", subjects=["anxin.up.>"])))
    return made


def stream_subjects(cluster: NatsCluster, stream: str = "ANXIN_UP") -> list[str]:
    """The subject of every message in an uplink stream, as the server reads it."""

    async def read(nc: NATS) -> list[str]:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        if not info.state.messages:
            return []
        return [
            (await js.get_msg(stream, seq)).subject or ""
            for seq in range(info.state.first_seq, info.state.last_seq + 1)
        ]

    return as_server(cluster, read)


def server_publishes(cluster: NatsCluster, subjects: list[str]) -> None:
    """The server's NATS user publishes on these subjects (acks and commands go out this way)."""

    async def send(nc: NATS) -> None:
        for subject in subjects:
            await nc.publish(subject, b'{"v":1}')

    as_server(cluster, send)


def login(cluster: NatsCluster, user: str | None, password: str | None) -> BrokerAddress:
    return cluster.mqtt_address(0, user, password)


def refused_over_nats(cluster: NatsCluster, user: str | None, password: str | None) -> bool:
    async def attempt() -> bool:
        try:
            nc = await nats.connect(
                cluster.nats_urls()[0], user=user, password=password, allow_reconnect=False, connect_timeout=5
            )
        except Exception:  # nats-py raises its own errors (Authorization Violation) or a timeout
            return True
        await nc.close()
        return False

    return asyncio.run(attempt())


def test_anonymous_and_wrong_logins_are_refused_on_mqtt_and_nats(cluster: NatsCluster, attacker) -> None:
    for user, password in ((None, None), (A, "wrong"), ("anxin-server", "guess"), ("nobody", "x")):
        intruder: MqttLink = attacker(login(cluster, user, password), client_id=f"probe-{user}", wait=False)
        time.sleep(QUIET)
        assert not intruder.connected.is_set(), f"MQTT {user!r} / {password!r} was let in"
        assert refused_over_nats(cluster, user, password), f"NATS {user!r} / {password!r} was let in"
    # A gateway's own password works over MQTT only: over NATS it could ask JetStream's API directly.
    assert refused_over_nats(cluster, A, PASSWORDS[A]), "a gateway's login was accepted on the NATS port"
    assert attacker(login(cluster, A, PASSWORDS[A]), client_id=f"anxin-gw-{A}").connected.is_set()


def test_a_gateway_can_neither_publish_as_another_nor_read_its_acks_and_commands(
    cluster: NatsCluster, attacker
) -> None:
    heard_by_a: list[tuple[str, bytes]] = []
    heard_by_b: list[tuple[str, bytes]] = []
    attacker(
        login(cluster, B, PASSWORDS[B]),
        client_id=f"anxin-gw-{B}",
        subscribe=[protocol.ack_topic(B), protocol.cmd_topic(B)],
        received=heard_by_b,
    )
    mallory = attacker(
        login(cluster, A, PASSWORDS[A]),
        client_id=f"anxin-gw-{A}",
        subscribe=["#", "anxin/v1/gw/+/ack", protocol.ack_topic(B), protocol.cmd_topic(B), "anxin/up/#"],
        received=heard_by_a,
    )
    for topic in (
        protocol.up_topic(B),
        protocol.state_topic(B),
        f"anxin/up/{partition_of(B)}/{B}/up",  # straight into B's partition of the stream
        f"anxin/up/{partition_of(A)}/{B}/up",  # into A's own partition, under B's name
    ):
        mallory.publish(topic, b"forged").wait_for_publish(10)
    mallory.publish(protocol.up_topic(A), b"own").wait_for_publish(10)  # what A may do lands
    server_publishes(cluster, [f"anxin.v1.gw.{B}.ack", f"anxin.v1.gw.{B}.cmd"])

    assert wait_until(lambda: len(heard_by_b) == 2, 30), "the real gateway B did not get its ack and command"
    assert wait_until(lambda: stream_subjects(cluster) == [f"anxin.up.{partition_of(A)}.{A}.up"], 30), stream_subjects(
        cluster
    )
    time.sleep(QUIET)
    assert stream_subjects(cluster) == [f"anxin.up.{partition_of(A)}.{A}.up"], "A published for B"
    assert heard_by_a == [], "gateway A read B's acks or commands"


def test_a_gateway_cannot_publish_on_another_gateways_alarm_subject(cluster: NatsCluster, attacker) -> None:
    as_server(
        cluster, lambda nc: nc.jetstream().add_stream(StreamConfig(name="ANXIN_ALARM", subjects=["anxin.alarm.>"]))
    )
    mallory = attacker(login(cluster, A, PASSWORDS[A]), client_id=f"anxin-gw-{A}")
    for topic in (
        protocol.alarm_topic(B),
        f"anxin/alarm/{partition_of(B)}/{B}/alarm",  # straight into B's partition of the alarm stream
        f"anxin/alarm/{partition_of(A)}/{B}/alarm",  # into A's own partition, under B's name
        f"anxin/alarm/{partition_of(A)}/{A}/up",  # readings smuggled into the alarm stream
    ):
        mallory.publish(topic, b"forged").wait_for_publish(10)
    mallory.publish(protocol.alarm_topic(A), b"own").wait_for_publish(10)  # what A may do lands
    own = [f"anxin.alarm.{partition_of(A)}.{A}.alarm"]
    assert wait_until(lambda: stream_subjects(cluster, "ANXIN_ALARM") == own, 30), stream_subjects(
        cluster, "ANXIN_ALARM"
    )
    time.sleep(QUIET)
    assert stream_subjects(cluster, "ANXIN_ALARM") == own, "A published an alarm for B"
    assert stream_subjects(cluster) == [], "an alarm landed in the readings' stream"


def test_a_gateway_cannot_reach_jetstreams_api(cluster: NatsCluster, attacker) -> None:
    mallory = attacker(login(cluster, A, PASSWORDS[A]), client_id=f"anxin-gw-{A}", subscribe=["$JS/#", "_INBOX/#"])
    mallory.publish(protocol.up_topic(A), b"own").wait_for_publish(10)
    assert wait_until(lambda: len(stream_subjects(cluster)) == 1, 30)
    for topic in (
        "$JS/API/STREAM/DELETE/ANXIN_UP",
        "$JS/API/STREAM/PURGE/ANXIN_UP",
        "$JS/API/CONSUMER/CREATE/ANXIN_UP",
        "$JS/API/STREAM/MSG/DELETE/ANXIN_UP",
    ):
        mallory.publish(topic, b'{"seq":1}').wait_for_publish(10)
    time.sleep(QUIET)
    assert len(stream_subjects(cluster)) == 1, "a gateway deleted or purged the uplink stream"
    assert not any(c.get("name") for c in _consumers(cluster)), "a gateway created a consumer to read the stream"


def _consumers(cluster: NatsCluster) -> list[dict[str, object]]:
    async def names(nc: NATS) -> list[dict[str, object]]:
        return [{"name": c.name} for c in await nc.jetstream().consumers_info("ANXIN_UP")]

    return as_server(cluster, names)


def test_taking_a_gateways_client_id_reads_none_of_its_queued_commands(cluster: NatsCluster, attacker) -> None:
    """nats-server 2.9 cannot bind client ids to users: A may take B's id (and so knock B off, a known
    limitation in docs/decisions.md), but B's session subscriptions are checked against A's rights."""
    victim = attacker(
        login(cluster, B, PASSWORDS[B]), client_id=f"anxin-gw-{B}", subscribe=[protocol.cmd_topic(B)], wait=True
    )
    victim.stop()
    server_publishes(cluster, [f"anxin.v1.gw.{B}.cmd"])
    heard: list[tuple[str, bytes]] = []
    attacker(login(cluster, A, PASSWORDS[A]), client_id=f"anxin-gw-{B}", received=heard)
    time.sleep(QUIET)
    assert heard == [], "a gateway taking another's client id received its queued command"


def test_a_removed_gateway_is_cut_off_at_the_reload(cluster: NatsCluster, attacker) -> None:
    former = attacker(login(cluster, A, PASSWORDS[A]), client_id=f"anxin-gw-{A}")
    remove_gateway(cluster.dir, A)  # what `anxin-server nats-config --remove-gateway` does
    cluster.reload()
    assert wait_until(lambda: not former.connected.is_set(), 30), "a removed gateway stayed connected"
    time.sleep(3 * QUIET)  # paho keeps retrying with the old password
    assert not former.connected.is_set(), "a removed gateway logged in again"


@pytest.mark.xfail(
    strict=True,
    reason="known limitation of nats-server 2.9 (docs/decisions.md, issue 22): client ids are per account, "
    "not per user, so a gateway with valid credentials can knock another off by taking its client id",
)
def test_a_gateway_cannot_knock_another_off_with_its_client_id(cluster: NatsCluster, attacker) -> None:
    victim = attacker(login(cluster, B, PASSWORDS[B]), client_id=f"anxin-gw-{B}")
    before = victim.stats.disconnects
    attacker(login(cluster, A, PASSWORDS[A]), client_id=f"anxin-gw-{B}", wait=False)
    time.sleep(2 * QUIET)
    assert victim.stats.disconnects == before, "gateway B was disconnected by A taking its client id"


@pytest.fixture
def rogue(tmp_path: Path) -> Iterator[Callable[[str], tuple[int, int]]]:
    """Start a nats-server that tries to join the cluster on the given route URL; (client port, monitor port)."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(route: str) -> tuple[int, int]:
        client, monitor = free_port(), free_port()
        conf = tmp_path / f"rogue-{client}.conf"
        conf.write_text(
            f'server_name: "rogue-{client}"\nlisten: "127.0.0.1:{client}"\nhttp: "127.0.0.1:{monitor}"\n'
            f'cluster {{ name: "anxin", listen: "127.0.0.1:{free_port()}", routes: ["{route}"] }}\n'
        )
        with open(tmp_path / f"rogue-{client}.log", "ab") as log:
            procs.append(subprocess.Popen([NATS_SERVER, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT))
        assert wait_for_port(client, timeout=15), "the rogue node did not start"
        return client, monitor

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(5)


def test_a_node_without_the_route_password_cannot_join(nats_cluster_factory: Callable[..., NatsCluster], rogue) -> None:
    cluster = nats_cluster_factory(3, PASSWORDS)
    port = cluster.layout.nodes[0].cluster_port

    def routes() -> int:
        return int(cluster._monitor(0, "routez").get("num_routes") or 0)

    assert routes() == 2
    rogue(f"nats-route://127.0.0.1:{port}")
    rogue(f"nats-route://anxin-route:guess@127.0.0.1:{port}")
    time.sleep(3 * QUIET)  # several of the rogues' connect attempts
    assert routes() == 2, "a node without the route password joined the cluster"
    # The check can see a join: a node with the password (from the generated files) is let in.
    password = json.loads((cluster.dir / "cluster.json").read_text())["route_password"]
    rogue(f"nats-route://anxin-route:{password}@127.0.0.1:{port}")
    assert wait_until(lambda: routes() == 3, 30), "the control node with the password did not join"


def test_a_gateway_cannot_read_another_gateways_queued_deliveries(cluster: NatsCluster, attacker) -> None:
    """Review of issue 22: every gateway may subscribe to `$MQTT.sub.>` (where NATS delivers an MQTT client's
    QoS 1 subscriptions). Over MQTT that subject is the topic `$MQTT/sub/#`: if it can be asked for, one
    gateway reads every other gateway's commands (and the server's QoS 1 messages) as they are delivered."""
    heard_by_a: list[tuple[str, bytes]] = []
    heard_by_b: list[tuple[str, bytes]] = []
    attacker(
        login(cluster, B, PASSWORDS[B]),
        client_id=f"anxin-gw-{B}",
        subscribe=[protocol.cmd_topic(B)],
        received=heard_by_b,
    )
    attacker(
        login(cluster, A, PASSWORDS[A]),
        client_id=f"anxin-gw-{A}",
        subscribe=["$MQTT/sub/#", "$MQTT/#"],
        received=heard_by_a,
    )
    server = attacker(cluster.server_mqtt(0), client_id="anxin-server-review")
    server.publish(protocol.cmd_topic(B), b'{"v":1,"secret":"for B only"}', 1).wait_for_publish(10)
    assert wait_until(lambda: len(heard_by_b) == 1, 30), "the real gateway B did not get its command"
    time.sleep(QUIET)
    assert heard_by_a == [], f"gateway A read B's command: {heard_by_a}"
