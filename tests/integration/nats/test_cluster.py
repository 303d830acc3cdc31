"""The three-node NATS cluster itself: a gateway's MQTT publish on one node is in the replicated stream
on every node, in the gateway's partition, and the stream survives the sudden loss of a node."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import nats
import paho.mqtt.client as paho
import pytest
from nats.js.api import StreamConfig

from anxin.mqtt import BrokerAddress
from firmware_sim.nats_cluster import NatsCluster
from server.nats_config import partition_of

pytestmark = [pytest.mark.integration]

GATEWAYS = {"gw-a": "password-a", "gw-b": "password-b"}


def publish(address: BrokerAddress, client_id: str, topic: str, payloads: list[bytes]) -> None:
    """A gateway's QoS 1 publishes once connected (as MqttLink does), each PUBACKed by the node."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id)
    client.username_pw_set(address.username, address.password)
    connected = threading.Event()
    client.on_connect = lambda *_: connected.set()
    client.connect(address.host, address.port)
    client.loop_start()
    try:
        # paho reconnects by itself: after a node dies the others refuse MQTT logins for a few seconds
        # while the replicated session stream elects a new leader (docs/operations.md, "Scaling out").
        assert connected.wait(60), f"{address.username} could not connect to {address.host}:{address.port}"
        for payload in payloads:
            client.publish(topic, payload, qos=1).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


async def _stream(cluster: NatsCluster, urls: list[str], create: bool = False) -> list[tuple[str, bytes]]:
    nc = await nats.connect(urls, user="anxin-server-nats", password=cluster.server_nats_password)
    try:
        js = nc.jetstream()
        if create:
            await js.add_stream(
                StreamConfig(name="ANXIN_UP", subjects=["anxin.up.>"], num_replicas=cluster.layout.replicas)
            )
            return []
        info = await js.stream_info("ANXIN_UP")
        got = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg("ANXIN_UP", seq)
            got.append((msg.subject or "", msg.data or b""))
        return got
    finally:
        await nc.close()


def stream(cluster: NatsCluster, node: int) -> list[tuple[str, bytes]]:
    """Every message of ANXIN_UP as node `node` serves it."""
    return asyncio.run(_stream(cluster, [cluster.nats_urls()[node]]))


def wait_for(check: Callable[[], bool], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except Exception:  # a node still electing its stream leader answers with an error: ask again
            pass
        time.sleep(0.2)
    return False


def test_a_publish_on_one_node_is_in_the_stream_on_another_in_its_partition(
    nats_cluster_factory: Callable[..., NatsCluster],
) -> None:
    cluster = nats_cluster_factory(3, GATEWAYS)
    asyncio.run(_stream(cluster, cluster.nats_urls(), create=True))
    publish(cluster.mqtt_address(1, "gw-a", "password-a"), "anxin-gw-gw-a", "anxin/v1/gw/gw-a/up", [b"batch-1"])
    publish(cluster.mqtt_address(0, "gw-b", "password-b"), "anxin-gw-gw-b", "anxin/v1/gw/gw-b/state", [b"online"])
    expected = [
        (f"anxin.up.{partition_of('gw-a')}.gw-a.up", b"batch-1"),
        (f"anxin.up.{partition_of('gw-b')}.gw-b.state", b"online"),
    ]
    assert wait_for(lambda: stream(cluster, 2) == expected), stream(cluster, 2)


def test_the_replicated_stream_survives_kill_9_of_a_node_and_the_node_catches_up(
    nats_cluster_factory: Callable[..., NatsCluster],
) -> None:
    cluster = nats_cluster_factory(3, GATEWAYS)
    asyncio.run(_stream(cluster, cluster.nats_urls(), create=True))
    topic = "anxin/v1/gw/gw-a/up"
    publish(cluster.mqtt_address(0, "gw-a", "password-a"), "anxin-gw-gw-a", topic, [b"%d" % i for i in range(20)])

    cluster.kill9(0)
    publish(cluster.mqtt_address(1, "gw-a", "password-a"), "anxin-gw-gw-a", topic, [b"%d" % i for i in range(20, 40)])
    want = [b"%d" % i for i in range(40)]
    assert wait_for(lambda: [d for _, d in stream(cluster, 2)] == want), "the stream lost messages with a node down"

    cluster.restart(0)
    assert wait_for(lambda: [d for _, d in stream(cluster, 0)] == want), "the restarted node did not catch up"
