"""Server ingest throughput: readings/s from simulated gateways through Mosquitto into SQLite or PostgreSQL.

Run: python -m bench.ingest [--db sqlite|postgres] [--gateways 20] [--readings 200000] [--batch 100]
PostgreSQL: a fresh database on ANXIN_TEST_POSTGRES (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from anxin import protocol
from anxin.mqtt import BrokerAddress, MqttLink, make_client
from anxin.ports import free_port, wait_for_port
from server.db.session import create_schema, make_engine, session_factory
from server.ingest import Ingest
from server.runtime import ingest_filters

ADMIN = os.environ.get("ANXIN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def database(kind: str, workdir: Path) -> tuple[str, object]:
    """A fresh database URL and a cleanup callable."""
    if kind == "sqlite":
        return f"sqlite:///{workdir}/bench.db", lambda: None
    import psycopg

    name = f"anxin_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(ADMIN, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    return f"{ADMIN.rsplit('/', 1)[0]}/{name}", lambda: admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def payloads(gateways: int, readings: int, batch: int) -> list[tuple[str, bytes]]:
    """Pre-encoded uplink batches, gateways interleaved as they would arrive."""
    per_gw = readings // gateways
    now = time.time()
    out = []
    for start in range(0, per_gw, batch):
        for g in range(gateways):
            gw = f"gw-bench-{g:03d}"
            events = tuple(
                protocol.UplinkEvent(
                    seq,
                    "reading",
                    now + seq,
                    {
                        "device": "bp-monitor",
                        "metric": "blood_pressure",
                        "values": {"systolic": 120 + seq % 40, "diastolic": 80 + seq % 20, "pulse": 70},
                    },
                )
                for seq in range(start + 1, min(start + batch, per_gw) + 1)
            )
            out.append((protocol.up_topic(gw), protocol.encode_batch(protocol.UplinkBatch(gw, "b", events, now))))
    return out


def _publish_all(address: BrokerAddress, msgs: list[tuple[str, bytes]]) -> None:
    link = MqttLink(make_client(f"bench-pub-{os.getpid()}"), address, lambda t, p: None)
    link.start()
    link.wait_connected(10)
    for topic, payload in msgs:
        link.publish(topic, payload, 1)
    while link.client.want_write() or link.client._out_messages:  # let QoS 1 publishes complete
        time.sleep(0.05)
    link.stop()


def run(kind: str, gateways: int, readings: int, batch: int) -> dict[str, object]:
    """Publish everything at QoS 1, wait until every event is acknowledged; time it."""
    workdir = Path(tempfile.mkdtemp(prefix="anxin-bench-"))
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 1000000\nmax_inflight_messages 1000\n"
    )
    broker = subprocess.Popen(
        [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url, cleanup = database(kind, workdir)
    engine = make_engine(url)
    try:
        wait_for_port(port, timeout=10)
        create_schema(engine)
        address = BrokerAddress("127.0.0.1", port)
        acked = 0
        done = threading.Event()
        total = (readings // gateways) * gateways
        lock = threading.Lock()

        def on_ack(_topic: str, payload: bytes) -> None:
            nonlocal acked
            with lock:
                acked += len(protocol.decode_ack(payload).seqs)
                if acked >= total:
                    done.set()

        gw_side = MqttLink(make_client("bench-gateways"), address, on_ack, [(f"{protocol.PREFIX}/+/ack", 1)])
        server_link = MqttLink(make_client("bench-server"), address, lambda t, p: None, ingest_filters(None))
        ingest = Ingest(session_factory(engine), lambda t, p, q: server_link.publish(t, p, q), lambda _a: None)
        server_link.on_message = ingest.on_message
        ingest.start()
        server_link.start()
        gw_side.start()
        server_link.wait_connected(10)
        gw_side.wait_connected(10)
        msgs = payloads(gateways, readings, batch)
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        # The gateways publish from another process, so this process's CPU time is the server's alone.
        publisher = multiprocessing.get_context("fork").Process(target=_publish_all, args=(address, msgs))
        publisher.start()
        deadline = time.monotonic() + 600
        while not (finished := done.wait(0.5)) and time.monotonic() < deadline:
            if ingest.counters["internal_errors"]:
                break  # the log says why; do not wait ten minutes for acks that will not come
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        publisher.join(30)
        gw_side.stop()
        server_link.stop()
        ingest.stop()
        return {
            "db": kind,
            "gateways": gateways,
            "readings": total,
            "batch": batch,
            "messages": len(msgs),
            "completed": finished,
            "seconds": round(elapsed, 2),
            "readings_per_s": round(total / elapsed),
            "server_cpu_seconds": round(cpu, 2),
            "readings_per_server_cpu_s": round(total / cpu),
            "load_avg_1m": os.getloadavg()[0],
            "ingest": dict(ingest.counters),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        }
    finally:
        engine.dispose()
        broker.terminate()
        broker.wait(10)
        cleanup()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    """Command line."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    p.add_argument("--gateways", type=int, default=20)
    p.add_argument("--readings", type=int, default=200_000)
    p.add_argument("--batch", type=int, default=100, help="readings per uplink message")
    a = p.parse_args()
    print(json.dumps(run(a.db, a.gateways, a.readings, a.batch), ensure_ascii=False))


if __name__ == "__main__":
    main()
