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

import nats
import pytest

from server.nats_config import partition_of
from server.runtime import ServerRuntime
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
