"""A stopping ingest process keeps its partitions' leases until what it fetched is committed.

Found in review (issue 22): the stop cancelled the lease refreshes first and then waited (up to the
30 s ack wait) for Ingest to commit what it had fetched. Under a backlog that wait is longer than the
5 s lease, so another process took the partitions while the stopping one still held their unsaved
batches: a gateway read by two processes at once, its later batches stored before its earlier ones.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import httpx
import nats
import pytest

from server.nats_config import partition_of
from server.runtime import ServerRuntime
from server.stream_lease_board import LeaseBoard
from server.stream_leases import owner_key
from server.stream_setup import BUCKET, LEASE_TTL_S
from tests.integration.harness import provision, wait_until
from tests.integration.stream.nats_node import SERVER_NATS_USER, NatsNode
from tests.integration.stream.test_stream_ingest import StreamGateway

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def lease_owner(node: NatsNode, partition: int) -> str | None:
    """Who the bucket says reads `partition` now (None: nobody, any process may take it)."""

    async def read() -> str | None:
        from nats.js.errors import KeyNotFoundError

        nc = await nats.connect(node.url, user=SERVER_NATS_USER, password=node.password)
        try:
            kv = await nc.jetstream().key_value(BUCKET)
            try:
                entry = await kv.get(owner_key(partition))
            except KeyNotFoundError:
                return None
            return (entry.value or b"").decode()
        finally:
            await nc.close()

    return asyncio.run(read())


def test_a_stopping_process_keeps_its_leases_while_it_still_commits_what_it_fetched(
    nats_node: NatsNode, stream_server: Callable[..., ServerRuntime], receiver
) -> None:
    first = stream_server()  # creates the stream, its consumers and the bucket
    provision(first, 1, [receiver.url("/caregiver/{code}")])
    first.stop()
    server = stream_server(start=False)
    ingest_start = server.ingest.start
    server.ingest.start = lambda: None  # type: ignore[method-assign]  # a backlog: Ingest commits nothing yet
    server.start()
    assert server.stream is not None
    assert wait_until(lambda: len(server.stream.owned) == 16, timeout=30)
    partition = partition_of("gw-r001")
    with StreamGateway(nats_node, "gw-r001") as gw:
        gw.send([1, 2, 3])
        assert wait_until(lambda: server.ingest.queue._queue.qsize() == 1, timeout=30)
        stopping = threading.Thread(target=server.stop, name="stopping")
        stopping.start()
        try:
            # Longer than a lease: the stop is still waiting for Ingest to commit the fetched batch.
            stopping.join(LEASE_TTL_S + 3)
            assert stopping.is_alive(), "the stop waits for what was fetched"
            assert lease_owner(nats_node, partition) == server.stream.me, (
                "the partition was free for another process while its batch was not yet committed"
            )
        finally:
            ingest_start()  # Ingest commits the batch: the stop settles it, frees the lease and ends
            stopping.join(60)
        assert not stopping.is_alive()
        assert wait_until(lambda: gw.has_acks([1, 2, 3]), timeout=15), "committed and acknowledged"
    assert server.stream.counters["acked"] == 1
    assert lease_owner(nats_node, partition) is None, "released once settled"


@pytest.mark.xfail(
    strict=True,
    reason="open (review of issue 22): the lapse check runs only between lease rounds. Moving it to its own "
    "task fixed this test but made test_stream_three_nodes fail 3 runs in 7 (leases dropped at 4 s during a "
    "node loss were not taken back within 90 s; that test is flaky on a loaded machine anyway, main 1 in 7), "
    "so that fix was withdrawn until rerun on a quiet machine (docs/decisions.md, the review's finding 2)",
)
def test_a_process_whose_lease_lapsed_stops_fetching_even_while_the_bucket_answers_slowly(
    nats_node: NatsNode, stream_server: Callable[..., ServerRuntime], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review of issue 22: the check that stops fetching a partition whose lease could not be refreshed ran
    only between lease rounds. A round whose bucket read hangs (a watcher waits 5 s for each entry; the
    bucket's leader being elected while the stream's consumers still deliver) kept the process fetching
    after the bucket let the lease go, when another process may take it: one gateway read by two."""
    server = stream_server()
    assert server.stream is not None
    assert wait_until(lambda: len(server.stream.owned) == 16, timeout=30)
    partition = partition_of("gw-r001")

    async def refused(_self: LeaseBoard, _partition: int) -> bool:
        raise TimeoutError("the bucket does not answer")

    async def hangs(_self: LeaseBoard) -> None:
        await asyncio.sleep(60)

    monkeypatch.setattr(LeaseBoard, "refresh", refused)
    monkeypatch.setattr(LeaseBoard, "read", hangs)
    assert wait_until(lambda: lease_owner(nats_node, partition) is None, timeout=30), "the lease lapsed"
    assert partition not in server.stream.owned, "still fetching a partition another process may have taken"
    assert server.stream.counters["leases_lost"] >= 16
    # Nobody reads the gateways now: the health check says so (the bucket's last read said all were ours).
    health = f"{server.settings.base_url}/api/v1/health"
    assert wait_until(lambda: httpx.get(health, timeout=10).status_code == 503, timeout=30), httpx.get(health).text
    assert "nobody" in httpx.get(health, timeout=10).text, httpx.get(health, timeout=10).text
