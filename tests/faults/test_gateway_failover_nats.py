"""A gateway on a three-node NATS cluster's MQTT listeners loses nothing when its node dies.

The gateway (`anxin-gateway run`, a real process) logs in to node 1 with nodes 2 and 3 as fallbacks.
The server's side is played by an acker on node 3 that does what the server does over NATS: it takes
each uplink batch from the cluster, records its events (as a commit would) and acknowledges them on
`anxin.v1.gw.<id>.ack` (core NATS, which reaches the gateway's MQTT subscription). Node 1 hangs
(SIGSTOP) while readings stream and the SOS button is pressed, then is killed (SIGKILL); the gateway
finds a node that takes its login (the others refuse MQTT logins for a moment while the replicated
session stream elects a new leader) and everything reaches the acker, the SOS before the backlog.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time
from pathlib import Path

import nats
import pytest
from nats.js.api import StreamConfig

from anxin import protocol
from firmware_sim.nats_cluster import NatsCluster
from server.nats_config import SERVER_NATS_USER
from tests.faults.procs import GATEWAY_ID, GatewayProc, devices
from tests.integration.harness import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.slow]

PASSWORD = "gateway-password-of-the-test"


class NatsAcker:
    """The server's uplink side, reduced to what the gateway can tell: record each event, then ack it."""

    def __init__(self, cluster: NatsCluster, node: int) -> None:
        self.url, self.password = cluster.nats_urls()[node], cluster.server_nats_password
        self.arrivals: list[tuple[int, str, dict]] = []  # (seq, lane, body) of every copy, in arrival order
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._done: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._main(),), daemon=True)

    def start(self) -> NatsAcker:
        self._thread.start()
        assert self.ready.wait(30), "the acker could not subscribe"
        return self

    def stop(self) -> None:
        if self._done is not None:
            self._loop.call_soon_threadsafe(self._done.set)
        self._thread.join(10)

    async def _main(self) -> None:
        self._done = asyncio.Event()
        nc = await nats.connect([self.url], user=SERVER_NATS_USER, password=self.password)
        js = nc.jetstream()
        # The server creates the uplink stream (server side of issue 22); the acker reads core NATS.
        await js.add_stream(StreamConfig(name="ANXIN_UP", subjects=["anxin.up.>"], num_replicas=3))
        await js.add_stream(StreamConfig(name="ANXIN_ALARM", subjects=["anxin.alarm.>"], num_replicas=3))

        async def on_batch(msg) -> None:  # type: ignore[no-untyped-def]
            if not msg.subject.endswith((".up", ".alarm")):
                return  # presence
            batch = protocol.decode_batch(msg.data)
            with self.lock:
                self.arrivals.extend((e.seq, e.lane, e.body) for e in batch.events)
            ack = protocol.Ack(seqs=tuple(e.seq for e in batch.events), batch_id=batch.batch_id)
            await nc.publish(protocol.ack_topic(batch.gateway_id).replace("/", "."), protocol.encode_ack(ack))

        await nc.subscribe("anxin.up.>", cb=on_batch)
        await nc.subscribe("anxin.alarm.>", cb=on_batch)  # batches that carry an alarm
        await nc.flush()
        self.ready.set()
        await self._done.wait()
        await nc.close()

    def humidity(self) -> set[int]:
        with self.lock:
            return {
                int(b["values"]["humidity"])
                for _s, lane, b in self.arrivals
                if lane == "reading" and "humidity" in b.get("values", {})
            }

    def alarm_seqs(self) -> list[int]:
        with self.lock:
            return sorted({s for s, lane, _b in self.arrivals if lane == "alarm"})


def test_a_gateway_on_a_nats_cluster_moves_to_a_live_node_and_loses_nothing(
    tmp_path: Path, nats_cluster_factory, mosquitto_factory
) -> None:
    cluster: NatsCluster = nats_cluster_factory(3, {GATEWAY_ID: PASSWORD})
    acker = NatsAcker(cluster, 2).start()
    home = mosquitto_factory()
    nodes = [cluster.mqtt_address(i) for i in range(3)]
    gateway = GatewayProc(
        tmp_path,
        home.address,
        nodes[0],
        central_broker={
            "username": GATEWAY_ID,
            "password": PASSWORD,
            "fallbacks": [f"{n.host}:{n.port}" for n in nodes[1:]],
        },
    )
    d = devices(home.address)
    try:
        gateway.start()
        for probe in range(-1, -61, -1):  # until the whole path works
            d.reading(probe)
            if wait_until(lambda: any(n < 0 for n in acker.humidity()), 1.0):
                break
        d.stream(0, 200, per_s=400)
        d.press()
        d.flush()
        assert wait_until(lambda: set(range(200)) <= acker.humidity() and len(acker.alarm_seqs()) == 1, 60)

        frozen = cluster.procs[0]
        assert frozen is not None
        frozen.send_signal(signal.SIGSTOP)  # node 1 hangs: the gateway's batches go nowhere
        d.stream(200, 200, per_s=600)
        d.press()
        d.flush()
        assert wait_until(lambda: gateway.holds(2, 399), 60), gateway.log()  # all of it waits in the outbox
        t0 = time.monotonic()
        cluster.kill9(0)
        everything = set(range(200, 400))
        assert wait_until(lambda: everything <= acker.humidity() and len(acker.alarm_seqs()) == 2, 120), gateway.log()
        print(
            f"\nfailover (NATS node 1 killed): backlog and SOS acknowledged after {time.monotonic() - t0:.2f} s",
            file=sys.stderr,
        )

        d.stream(400, 100, per_s=400)  # and life goes on
        d.press()
        d.flush()
        assert wait_until(lambda: set(range(500)) <= acker.humidity() and len(acker.alarm_seqs()) == 3, 120)

        with acker.lock:
            arrivals = list(acker.arrivals)
        sos = acker.alarm_seqs()[1]
        first = {}
        for i, (seq, _lane, _b) in enumerate(arrivals):
            first.setdefault(seq, i)
        backlog = [
            first[s] for s, lane, b in arrivals if lane == "reading" and 200 <= b["values"].get("humidity", -1) < 400
        ]
        assert first[sos] < min(backlog), "a reading of the backlog reached the server before the SOS"
        log = gateway.log()
        assert "lost the connection" in log and "MQTT connected to" in log
    finally:
        d.link.stop()
        gateway.stop()
        acker.stop()
