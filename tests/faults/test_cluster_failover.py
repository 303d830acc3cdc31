"""A city installation loses one NATS node and one ingest process at once and loses nothing.

Three nats-server nodes, two ingest processes (uplink from JetStream, PostgreSQL), three homes whose
gateways use node 1 and fall back to nodes 2 and 3. While the homes stream readings and press SOS,
node 1 hangs (so a backlog and the alarms wait unacknowledged) and is then killed -9, and so is one
ingest process. Every alarm reaches its caregiver's phone exactly once, before the backlog is
stored; every reading is stored once or accounted for by a gap record. Both come back, and the
next press goes through as before.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from firmware_sim.nats_cluster import NatsCluster
from firmware_sim.receiver import NotificationReceiver
from tests.cluster_stack import ClusterStack, build
from tests.faults.checks import assert_alarms_first, assert_nothing_lost
from tests.integration.harness import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.postgres, pytest.mark.slow]

SETTLE_S = 180.0  # generous: six engineers share two cores; nothing here measures speed


@pytest.fixture
def stack(
    tmp_path: Path,
    nats_cluster_factory: Callable[..., NatsCluster],
    mosquitto_factory: Callable[..., Any],
    postgres_url: str,
    receiver: NotificationReceiver,
) -> Iterator[ClusterStack]:
    built = build(tmp_path, nats_cluster_factory, mosquitto_factory, postgres_url, receiver.url("/caregiver/{code}"))
    yield built
    built.stop()


def test_one_node_and_one_ingest_process_die_while_homes_press_sos(
    stack: ClusterStack, receiver: NotificationReceiver
) -> None:
    cluster, homes = stack.cluster, stack.homes
    assert stack.ready(), f"the set-up never carried a probe from every home\n{stack.ingest[0].log()}"

    def notified_each(count: int) -> bool:
        return all(h.notified(receiver) >= count for h in homes)

    # Normal life: readings and one press per home, everything through node 1; staff close the alarms.
    for i, home in enumerate(homes):
        home.devices.stream(i * 10_000, 100, per_s=300)
        home.devices.press()
    for home in homes:
        home.devices.flush()
    assert wait_until(lambda: all(stack.settled(h) for h in homes), SETTLE_S, 0.5), stack.describe(receiver)
    assert wait_until(lambda: notified_each(1), SETTLE_S, 0.5), stack.describe(receiver)
    stack.close_alarms()

    # Node 1 hangs: readings and a press wait in each outbox, unacknowledged. Then it dies, and so
    # does ingest process A.
    cluster.procs[0].send_signal(signal.SIGSTOP)  # type: ignore[union-attr]  # started by the fixture
    before = {}
    for i, home in enumerate(homes):
        before[home.gateway_id] = max((s for _i, s, _l, _b in stack.stored(home.gateway_id).rows), default=0)
        home.devices.stream(i * 10_000 + 100, 200, per_s=400)
        home.devices.press()
    for home in homes:
        home.devices.flush()
        last = home.devices.readings[-1]
        assert wait_until(lambda h=home, n=last: h.gateway.holds(h.devices.presses, n), SETTLE_S, 0.2)
    cluster.kill9(0)
    stack.ingest[0].kill()

    # Nodes 2 and 3 and ingest process B carry the backlog, the SOS first, and the caregivers hear.
    assert wait_until(lambda: notified_each(2), SETTLE_S, 0.5), stack.describe(receiver)
    assert wait_until(lambda: all(stack.settled(h) for h in homes), SETTLE_S, 0.5), stack.describe(receiver)
    stack.close_alarms()
    # Life goes on.
    for i, home in enumerate(homes):
        home.devices.stream(i * 10_000 + 300, 100, per_s=300)
        home.devices.press()
    for home in homes:
        home.devices.flush()
    assert wait_until(lambda: all(stack.settled(h) for h in homes), SETTLE_S, 0.5), stack.describe(receiver)
    assert wait_until(lambda: notified_each(3), SETTLE_S, 0.5), stack.describe(receiver)
    time.sleep(2.0)  # a repeated notification, if any, would arrive now
    for home in homes:
        st = stack.stored(home.gateway_id)
        assert_nothing_lost(st, home)  # type: ignore[arg-type]  # a Home has the devices the check reads
        assert_alarms_first(st, before[home.gateway_id], 1)
        assert home.notified(receiver) == stack.alarms_raised(home.gateway_id) == home.devices.presses, stack.describe(
            receiver
        )
    stack.close_alarms()

    # Both come back; the cluster has its three nodes and both processes take partitions again.
    cluster.restart(0)
    stack.ingest[0].start()
    assert wait_until(lambda: stack.ingest[0].running(), 90), stack.ingest[0].log()
    assert wait_until(lambda: len(stack.lease_owners()) == 2, 90), "the restarted process took no partition"
    for home in homes:
        home.devices.press()
    assert wait_until(lambda: notified_each(4), SETTLE_S, 0.5), stack.describe(receiver)
    assert wait_until(lambda: all(stack.settled(h) for h in homes), SETTLE_S, 0.5), stack.describe(receiver)
    time.sleep(2.0)
    for home in homes:
        assert home.notified(receiver) == stack.alarms_raised(home.gateway_id) == home.devices.presses, stack.describe(
            receiver
        )
