"""Fall detector throughput: samples per CPU-second, and how many 50 Hz wearables one core serves.

Run: python -m bench.falls [--streams 50] [--seconds 120]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np

from firmware_sim import traces
from gateway.falls.monitor import FallMonitor
from gateway.model import AccelChunk

RATE = 50.0


def workload(streams: int, seconds: int) -> list[list[AccelChunk]]:
    """Per wearable, `seconds` one-second chunks of mixed activity with a fall in every cycle of about 100 s."""
    day = np.vstack(
        [
            traces.walk(RATE, 1, 30),
            traces.stairs(RATE, 2),
            traces.sit_hard(RATE, 3),
            traces.fall(RATE, 4),
            traces.jump(RATE, 5),
        ]
    )
    out = []
    for s in range(streams):
        xyz = np.roll(day, s * 37, axis=0)
        xyz = np.resize(xyz, (int(seconds * RATE), 3))
        out.append(
            [
                AccelChunk(f"wearable-{s}", 1.7e9 + i, RATE, tuple(map(tuple, xyz[i * 50 : (i + 1) * 50].tolist())))
                for i in range(seconds)
            ]
        )
    return out


def run(streams: int, seconds: int) -> dict[str, float | int | str]:
    """Feed every stream's chunks in arrival order; time CPU and per-chunk latency."""
    chunks = workload(streams, seconds)
    monitor = FallMonitor(max_streams=streams)
    lat: list[float] = []
    falls = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(seconds):
        for s in range(streams):
            t = time.perf_counter()
            falls += len(monitor.feed(chunks[s][i]))
            lat.append(time.perf_counter() - t)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    samples = streams * seconds * int(RATE)
    per_cpu_s = samples / cpu
    lat.sort()
    return {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "streams": streams,
        "seconds": seconds,
        "samples": samples,
        "falls_detected": falls,
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "samples_per_cpu_s": round(per_cpu_s),
        "wearables_per_core_50hz": int(per_cpu_s / RATE),
        "chunk_p50_ms": round(statistics.median(lat) * 1e3, 3),
        "chunk_p99_ms": round(lat[int(len(lat) * 0.99)] * 1e3, 3),
    }


def main() -> None:
    """Command line."""
    p = argparse.ArgumentParser(prog="python -m bench.falls")
    p.add_argument("--streams", type=int, default=50)
    p.add_argument("--seconds", type=int, default=120)
    args = p.parse_args()
    print(json.dumps(run(args.streams, args.seconds)))


if __name__ == "__main__":
    main()
