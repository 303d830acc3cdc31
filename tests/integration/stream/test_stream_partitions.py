"""Two ingest processes split the stream's 16 partitions; when one goes, the other takes all within seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import nats
import pytest

from server.nats_config import partition_of
from server.runtime import ServerRuntime
from server.stream_setup import STREAM
from tests.integration.harness import provision, wait_until
from tests.integration.stream.nats_node import SERVER_NATS_USER, NatsNode
from tests.integration.stream.test_stream_ingest import StreamGateway, stored

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def split(a: ServerRuntime, b: ServerRuntime) -> bool:
    assert a.stream and b.stream
    return len(a.stream.owned) == 8 and len(b.stream.owned) == 8 and not a.stream.owned & b.stream.owned


def partitions_of(node: NatsNode) -> dict[str, set[int]]:
    """Which partitions each gateway's messages landed in (the stream's subjects)."""

    async def subjects() -> dict[str, int]:
        nc = await nats.connect(node.url, user=SERVER_NATS_USER, password=node.password)
        try:
            info = await nc.jetstream().stream_info(STREAM, subjects_filter=">")
            return dict(info.state.subjects or {})
        finally:
            await nc.close()

    out: dict[str, set[int]] = {}
    for subject in asyncio.run(subjects()):
        parts = subject.split(".")
        out.setdefault(parts[3], set()).add(int(parts[2]))
    return out


def test_two_processes_split_the_partitions_and_the_survivor_takes_all(
    nats_node: NatsNode, stream_server: Callable[..., ServerRuntime], receiver
) -> None:
    a = stream_server()
    provision(a, 8, [receiver.url("/caregiver/{code}")])
    assert wait_until(lambda: len(a.stream.owned) == 16, timeout=30)
    b = stream_server()
    assert wait_until(lambda: split(a, b), timeout=30), (a.stream.owned, b.stream.owned)
    gateways = [StreamGateway(nats_node, f"gw-r{i:03d}").__enter__() for i in range(1, 9)]
    try:
        for gw in gateways:
            gw.send(list(range(1, 11)))
        assert wait_until(lambda: all(gw.has_acks(range(1, 11)) for gw in gateways), timeout=60)
        assert a.stream.counters["acked"] and b.stream.counters["acked"], "both processes ingest"
        # Each gateway is in one partition, and each partition read by one process: no gateway row is
        # written by both.
        placed = partitions_of(nats_node)
        assert all(len(p) == 1 for p in placed.values()), placed
        readers = {gw: [s for s in (a, b) if p <= s.stream.owned] for gw, p in placed.items()}
        assert all(len(r) == 1 for r in readers.values())

        # B loses NATS (as if its node or network went): it stops fetching, reports itself, A takes all.
        asyncio.run_coroutine_threadsafe(b.stream._nc.close(), b.stream._aloop).result(10)
        assert wait_until(lambda: len(a.stream.owned) == 16, timeout=20), a.stream.owned
        assert not b.stream.owned
        health = httpx.get(f"{b.settings.base_url}/api/v1/health", timeout=10)
        assert health.status_code == 503 and "NATS" in health.json()["intake"]
        assert "anxin_stream_intake_alive 0.0" in httpx.get(f"{b.settings.base_url}/metrics", timeout=10).text
        for gw in gateways:
            gw.send(list(range(11, 21)))
        assert wait_until(lambda: all(gw.has_acks(range(1, 21)) for gw in gateways), timeout=60)
        assert stored(a) == 8 * 20, "stored once"
        assert httpx.get(f"{a.settings.base_url}/api/v1/health", timeout=10).status_code == 200
    finally:
        for gw in gateways:
            gw.__exit__()


def test_a_process_that_stops_hands_its_partitions_over_at_once(
    nats_node: NatsNode, stream_server: Callable[..., ServerRuntime], receiver
) -> None:
    a = stream_server()
    provision(a, 2, [receiver.url("/caregiver/{code}")])
    b = stream_server()
    assert wait_until(lambda: split(a, b), timeout=40), (a.stream.owned, b.stream.owned)
    with StreamGateway(nats_node, "gw-r001") as gw:
        gw.send([1, 2])
        assert wait_until(lambda: gw.has_acks([1, 2]), timeout=30)
        b.stop()  # a clean stop: fetching stops, what was fetched is committed and acked, the leases go
        assert wait_until(lambda: len(a.stream.owned) == 16, timeout=20)
        gw.send([3, 4])
        assert wait_until(lambda: gw.has_acks([3, 4]), timeout=30)
    assert stored(a) == 4


def test_a_partition_count_below_the_mapping_is_reported(
    nats_node: NatsNode, stream_server: Callable[..., ServerRuntime], receiver
) -> None:
    gateway = next(gw for gw in nats_node.gateway_passwords if partition_of(gw, 16) > 0)
    fewer = partition_of(gateway, 16)  # the server reads partitions 0..fewer-1; this gateway is in `fewer`
    server = stream_server(nats_partitions=fewer)
    provision(server, 8, [receiver.url("/caregiver/{code}")])
    with StreamGateway(nats_node, gateway) as gw:
        gw.send([1])
        assert wait_until(lambda: server.stream.unread > 0, timeout=30)
        assert not gw.acked, "nobody read it"
    health = httpx.get(f"{server.settings.base_url}/api/v1/health", timeout=10)
    assert health.status_code == 503 and "nats_partitions" in health.json()["intake"]
    assert "anxin_stream_unread 1.0" in httpx.get(f"{server.settings.base_url}/metrics", timeout=10).text
