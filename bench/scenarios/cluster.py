"""Scenario `cluster`: the city set-up (three NATS nodes, two ingest processes, PostgreSQL) beside one
Mosquitto node, in the same run: alarm latency (press → caregiver's receiver) and ingest throughput;
then one node and one ingest process are killed -9 while the homes press SOS and stream readings,
and every alarm, reading and notification is counted."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.core import BenchError, Result, Stopwatch, log, percentiles
from bench.stack import ServerProcess, postgres_database, provision_database
from firmware_sim.nats_cluster import NatsCluster
from firmware_sim.receiver import NotificationReceiver
from tests.cluster_stack import ClusterStack, Home, build, probe, settled
from tests.faults.procs import GatewayProc, devices
from tests.integration.harness import wait_until
from tests.mosquitto import Mosquitto

SETTLE_S = 300.0


def close_active(api: ServerProcess) -> None:
    """Staff resolve every active alarm, so that the next press raises (and notifies) a new one."""
    for alarm in api.api("GET", "/alarms", params={"status": "active", "limit": 1000}):
        api.api("POST", f"/alarms/{alarm['id']}/resolve", json={"outcome": "test_passed"})


def press_latencies(homes: list[Home], receiver: NotificationReceiver, presses: int, api: ServerProcess) -> list[float]:
    """Press each home's button in turn; seconds from the press to its caregiver's notification."""
    samples = []
    for i in range(presses):
        home = homes[i % len(homes)]
        before = home.notified(receiver)
        t0 = time.time()
        home.devices.press()
        if not wait_until(lambda h=home, n=before: h.notified(receiver) > n, 60, 0.005):
            raise BenchError(f"{home.gateway_id}: no notification within 60 s of a press")
        samples.append(max(r.at for r in receiver.received if r.path == home.caregiver_path) - t0)
        close_active(api)
    return samples


def throughput(homes: list[Home], settled: Callable[[Home], bool], readings: int) -> float:
    """Readings/s from the first device publish until every home's readings are stored."""
    t0 = time.monotonic()
    for i, home in enumerate(homes):
        home.devices.stream(100_000 * (i + 1) + len(home.devices.readings), readings)
    for home in homes:
        home.devices.flush()
    if not wait_until(lambda: all(settled(h) for h in homes), SETTLE_S, 0.05):
        raise BenchError("the readings were not all stored")
    return readings * len(homes) / (time.monotonic() - t0)


def on_mosquitto(
    work: Path, url: str, receiver: NotificationReceiver, homes: int, presses: int, readings: int
) -> dict[str, float]:
    """The single-node figures: one Mosquitto, one server process (role all) on the same kind of database."""
    provision_database(url, homes, [receiver.url("/caregiver/{code}")])
    central = Mosquitto(work / "single").start()
    server = ServerProcess(work, central.address, url).start()
    brokers, made = [central], []
    try:
        for n in range(1, homes + 1):
            gw, home_dir = f"gw-r{n:03d}", work / "single" / f"gw-r{n:03d}"
            home_dir.mkdir(parents=True)
            local = Mosquitto(home_dir).start()
            brokers.append(local)
            proc = GatewayProc(home_dir, local.address, central.address, gateway_id=gw, resident=f"R{n:03d}")
            proc.outbox = home_dir / "gw" / f"outbox-{gw}.sqlite"
            made.append(Home(gw, f"R{n:03d}", proc, devices(local.address)))
            proc.start()
        if not all(probe(url, h) for h in made):
            raise BenchError("the single-node homes never delivered a probe")
        lat = percentiles(press_latencies(made, receiver, presses, server))
        rate = throughput(made, lambda h: settled(url, h), readings)
        return {"alarm_p50_ms": lat["p50"] * 1000, "alarm_p99_ms": lat["p99"] * 1000, "readings_per_s": rate}
    finally:
        for home in made:
            home.devices.link.stop()
            home.gateway.stop()
        server.stop()
        for broker in brokers:
            broker.stop()


def node_kill(stack: ClusterStack, receiver: NotificationReceiver, readings: int) -> dict[str, int]:
    """Kill -9 node 1 and ingest process A while every home presses once and streams; count the outcome."""
    stack.close_alarms()
    start = {h.gateway_id: (h.devices.presses, h.notified(receiver)) for h in stack.homes}
    stack.cluster.kill9(0)
    stack.ingest[0].kill()
    for i, home in enumerate(stack.homes):
        home.devices.press()
        home.devices.stream(900_000 + 10_000 * i, readings, per_s=1000)
    for home in stack.homes:
        home.devices.flush()
    wait_until(lambda: all(stack.settled(h) for h in stack.homes), SETTLE_S, 0.2)
    wait_until(lambda: all(h.notified(receiver) >= h.devices.presses for h in stack.homes), SETTLE_S, 0.2)
    time.sleep(2.0)  # late duplicates, if any, would arrive now
    counts = {"alarms_sent": 0, "alarms_notified_once": 0, "readings_sent": 0, "readings_stored": 0}
    counts["readings_accounted_by_gaps"] = 0
    for home in stack.homes:
        st = stack.stored(home.gateway_id)
        sent = home.devices.presses - start[home.gateway_id][0]
        notes = home.notified(receiver) - start[home.gateway_id][1]
        counts["alarms_sent"] += sent
        counts["alarms_notified_once"] += max(0, min(sent, notes) - max(0, notes - sent))  # repeats count against
        wanted = set(home.devices.readings[-readings:])
        counts["readings_sent"] += len(wanted)
        counts["readings_stored"] += sum(1 for n, c in st.humidity.items() if n in wanted and c == 1)
        counts["readings_accounted_by_gaps"] += st.thinned()
    return counts


def run(quick: bool) -> Result:
    """Both set-ups, the same homes and load; then the node-kill sequence on the cluster."""
    clock = Stopwatch()
    homes, presses, readings, kill_readings = (2, 4, 300, 100) if quick else (4, 20, 5_000, 1_000)
    result = Result("cluster", quick)
    with tempfile.TemporaryDirectory(prefix="anxin-bench-") as tmp:
        work = Path(tmp)
        receiver = NotificationReceiver()
        receiver.start()
        clusters: list[NatsCluster] = []
        brokers: list[Mosquitto] = []

        def cluster_factory(nodes: int, gateways: dict[str, str]) -> NatsCluster:
            made = NatsCluster(work, nodes)
            clusters.append(made)
            return made.start(gateways)

        def mosquitto_factory() -> Mosquitto:
            broker = Mosquitto(work).start()
            brokers.append(broker)
            return broker

        stack = None
        try:
            with postgres_database() as url:
                log("single Mosquitto node: alarm latency and ingest throughput")
                single = on_mosquitto(work, url, receiver, homes, presses, readings)
            receiver.received.clear()
            with postgres_database() as url:
                log("NATS cluster: three nodes, two ingest processes")
                stack = build(
                    work / "cluster", cluster_factory, mosquitto_factory, url, receiver.url("/caregiver/{code}"), homes
                )
                if not stack.ready():
                    raise BenchError("the cluster set-up never carried a probe from every home")
                lat = percentiles(press_latencies(stack.homes, receiver, presses, stack.api))
                rate = throughput(stack.homes, stack.settled, readings)
                log("killing node 1 and ingest process A while the homes press and stream")
                counts = node_kill(stack, receiver, kill_readings)
                stack.stop()
                stack = None
        finally:
            if stack is not None:
                stack.stop()
            for made in clusters:
                made.stop()
            for broker in brokers:
                broker.stop()
            receiver.stop()
    m: dict[str, Any] = result.metrics
    m.update({f"single_{k}": v for k, v in single.items()})
    m.update({"cluster_alarm_p50_ms": lat["p50"] * 1000, "cluster_alarm_p99_ms": lat["p99"] * 1000})
    m["cluster_readings_per_s"] = rate
    m.update(counts)
    result.rows = [
        {
            "set-up": "one Mosquitto, one server",
            "alarm p50 ms": m["single_alarm_p50_ms"],
            "alarm p99 ms": m["single_alarm_p99_ms"],
            "readings/s": m["single_readings_per_s"],
        },
        {
            "set-up": "3 NATS nodes, 2 ingest",
            "alarm p50 ms": m["cluster_alarm_p50_ms"],
            "alarm p99 ms": m["cluster_alarm_p99_ms"],
            "readings/s": m["cluster_readings_per_s"],
        },
    ]
    result.notes += [
        f"{homes} homes (real gateway processes with outboxes), {presses} presses, {readings} readings per home; "
        "PostgreSQL for both set-ups; the cluster's gateways use node 1 with nodes 2 and 3 as fallbacks",
        f"node kill: node 1 and ingest process A killed -9, then each home pressed once and streamed {kill_readings} "
        f"readings: {counts['alarms_notified_once']}/{counts['alarms_sent']} alarms notified exactly once, "
        f"{counts['readings_stored']}/{counts['readings_sent']} readings stored once, "
        f"{counts['readings_accounted_by_gaps']} in gap records",
    ]
    result.duration_s = clock.elapsed
    return result
