"""Ingest without MQTT: pre-encoded batches of 50 gateways replayed through `Ingest.handle_many` on one
thread, so that a profiler sees only the server's ingest work (docs/performance.md, Ingest).

    python -m bench.ingest_replay --drain 40 --db postgresql
    py-spy record -o ingest.svg -- python -m bench.ingest_replay --drain 1 --db postgresql
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from anxin import protocol
from bench.stack import postgres_database, provision_database
from server.cli import tune_gc
from server.db.session import make_engine, session_factory
from server.ingest import Ingest

GATEWAYS = 50
PER_BATCH = 100


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh SQLite file or PostgreSQL database."""
    if kind == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        with tempfile.TemporaryDirectory(prefix="anxin-replay-") as tmp:
            yield f"sqlite:///{tmp}/replay.db"


def batches(drain: int, drains: int) -> list[list[tuple[str, bytes]]]:
    """`drains` groups of `drain` uplink messages, gateways in turn, sequence numbers continuing."""
    seqs = {f"gw-r{i:03d}": 0 for i in range(1, GATEWAYS + 1)}
    names = list(seqs)
    out = []
    for d in range(drains):
        group = []
        for j in range(drain):
            gw = names[(d * drain + j) % GATEWAYS]
            first, now = seqs[gw] + 1, time.time()
            seqs[gw] += PER_BATCH
            events = tuple(
                protocol.UplinkEvent(
                    first + i,
                    "reading",
                    now,
                    {"device": "climate-1", "metric": "climate", "values": {"temperature": 21.5, "humidity": 40.0}},
                )
                for i in range(PER_BATCH)
            )
            group.append((protocol.up_topic(gw), protocol.encode_batch(protocol.UplinkBatch(gw, "boot", events, now))))
        out.append(group)
    return out


def replay(url: str, drain: int, readings: int) -> dict[str, float]:
    """Readings per second (wall) and the share of it this thread spent on the CPU."""
    provision_database(url, GATEWAYS, [])
    engine = make_engine(url)
    try:
        ingest = Ingest(session_factory(engine), lambda *_a: None, lambda _a: None)
        groups = batches(drain, 3 + max(1, readings // (drain * PER_BATCH)))
        for group in groups[:3]:  # warm-up: connections, statement caches
            ingest.handle_many(group)
        wall, cpu, n = time.perf_counter(), time.process_time(), 0
        for group in groups[3:]:
            ingest.handle_many(group)
            n += PER_BATCH * len(group)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        engine.dispose()
    return {"readings": n, "readings_per_s": n / wall, "python_cpu_share": cpu / wall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_replay", description=__doc__.splitlines()[0])
    parser.add_argument("--drain", type=int, default=40, help="uplink messages (of 100 readings) per transaction")
    parser.add_argument("--readings", type=int, default=50_000)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    args = parser.parse_args(argv)
    tune_gc()  # as the server process does
    with database(args.db) as url:
        r = replay(url, args.drain, args.readings)
    print(
        f"{args.db}, {args.drain} messages per drain: {r['readings_per_s']:,.0f} readings/s "
        f"({r['readings']:,} readings, this thread on the CPU {r['python_cpu_share']:.0%} of the time)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
