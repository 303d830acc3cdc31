"""Ingest over the NATS stream: one vs two ingest processes on one nats-server and PostgreSQL.

`python -m bench.stream_ingest [--gateways 50] [--seconds 20] [--processes 1 2]` prints one JSON line
per process count: readings/s acked to the fleet (stored, committed), the servers' CPU and the
readings per CPU-second. The fleet (bench/fleet.py) speaks MQTT to the node's MQTT listener; the
account's mapping spreads the gateways over 16 partitions. Figures on a shared machine are relative.
`measure_stream_store` is the hook `bench cluster` can reuse with its own cluster.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from anxin.mqtt import BrokerAddress
from bench.core import BenchError
from bench.stack import FleetProcess, ServerProcess, count_rows, postgres_database, provision_database


def stream_env(nats_urls: list[str], user: str, password: str) -> dict[str, str]:
    """The settings that make a server process ingest from the stream."""
    return {
        "ANXIN_UPLINK": "nats",
        "ANXIN_NATS_URLS": json.dumps(nats_urls),
        "ANXIN_NATS_USER": user,
        "ANXIN_NATS_PASSWORD": password,
    }


def _cpu_s(servers: list[ServerProcess]) -> float:
    return sum(t.user + t.system for t in (srv.process.cpu_times() for srv in servers))


def measure_stream_store(
    workdir: Path,
    mqtt: BrokerAddress,
    gateway_mqtt: BrokerAddress,
    env: dict[str, str],
    url: str,
    gateways: int,
    seconds: float,
    processes: int = 1,
    batch: int = 100,
    brokers: tuple[int, ...] = (),
) -> dict[str, Any]:
    """`processes` servers (the first also serves HTTP, the others `--role ingest`) under a full-speed fleet."""
    provision_database(url, gateways, [])
    servers: list[ServerProcess] = []
    try:
        servers.append(ServerProcess(workdir, mqtt, url, (), env).start())
        for _ in range(processes - 1):
            servers.append(ServerProcess(workdir, mqtt, url, ("--role", "ingest"), env).start())
    except BenchError:
        for srv in servers:
            srv.stop()
        raise
    time.sleep(3.0)  # the lease rounds settle the partitions between the processes
    fleet = FleetProcess(gateway_mqtt, gateways, batch=batch, window=2).start()
    try:
        if not fleet.wait_for("connected", gateways, 60):
            raise BenchError(f"only {fleet.latest.get('connected', 0)} of {gateways} gateways connected")
        time.sleep(min(5.0, seconds / 3))
        watched = [psutil.Process(pid) for pid in brokers]  # the nats-server nodes' CPU beside ours
        start, cpu0, b0 = dict(fleet.latest), _cpu_s(servers), sum(sum(p.cpu_times()[:2]) for p in watched)
        time.sleep(seconds)
        end, cpu1, b1 = dict(fleet.latest), _cpu_s(servers), sum(sum(p.cpu_times()[:2]) for p in watched)
    finally:
        summary = fleet.stop()
        for srv in servers:
            srv.stop()
    if not start or not end or end["t"] <= start["t"]:
        raise BenchError("the fleet reported no progress")
    elapsed = end["t"] - start["t"]
    rate = (end["acked"] - start["acked"]) / elapsed
    cpu_s = cpu1 - cpu0
    return {
        "uplink": "nats",
        "processes": processes,
        "gateways": gateways,
        "readings_per_s": round(rate),
        "server_cpu_pct": round(cpu_s / elapsed * 100),
        "readings_per_cpu_s": round((end["acked"] - start["acked"]) / cpu_s) if cpu_s else 0,
        "broker_cpu_pct": round((b1 - b0) / elapsed * 100),
        "lag_p50_ms": summary.get("lag_ms", {}).get("p50"),
        "lag_p99_ms": summary.get("lag_ms", {}).get("p99"),
        "stored": count_rows(url, "readings"),
        "acked": summary.get("acked", end["acked"]),
    }


def main(argv: list[str] | None = None) -> int:
    """Run 1 and 2 processes on one nats-server (from the tests' fixture) and print the figures."""
    from bench.stream_node import SERVER_MQTT_USER, SERVER_NATS_USER, NatsNode

    ap = argparse.ArgumentParser(prog="python -m bench.stream_ingest")
    ap.add_argument("--gateways", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--mosquitto", action="store_true", help="also one process on Mosquitto (the MQTT uplink)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="anxin-bench-stream-") as tmp:
        if args.mosquitto:
            from bench.scenarios.ingest import measure_store
            from tests.mosquitto import Mosquitto

            broker = Mosquitto(Path(tmp)).start()
            try:
                with postgres_database() as url:
                    m = measure_store(Path(tmp), broker.address, url, args.gateways, args.seconds)
                print(json.dumps({"uplink": "mosquitto", "processes": 1, **{k: round(v) for k, v in m.items()}}))
            finally:
                broker.stop()
        for n in args.processes:
            node = NatsNode(Path(tmp) / f"nats-{n}", [], fleet=True).start()
            try:
                gateway_mqtt = BrokerAddress("127.0.0.1", node.mqtt_port)  # the fleet: no password (bench only)
                env = {
                    **stream_env([node.url], SERVER_NATS_USER, node.password),
                    "ANXIN_MQTT_USERNAME": SERVER_MQTT_USER,
                    "ANXIN_MQTT_PASSWORD": node.password,
                }
                with postgres_database() as url:
                    m = measure_stream_store(
                        Path(tmp),
                        node.mqtt_address(SERVER_MQTT_USER),
                        gateway_mqtt,
                        env,
                        url,
                        args.gateways,
                        args.seconds,
                        n,
                        brokers=(node.proc.pid,) if node.proc else (),
                    )
                print(json.dumps(m), flush=True)
            finally:
                node.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
