"""Benchmark: the full default rule set over a simulated week, and per-input evaluation cost.

Run: `python -m bench.rules_week [--tick-s 1]`. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import timedelta

from firmware_sim.routine import WEEK_START, run_week, timeline, week
from gateway.rules.defaults import build_engine


def per_input_costs(tick_s: float) -> dict[str, float]:
    """Microseconds per engine.evaluate for ticks and for device messages, over one simulated day."""
    engine = build_engine({}, "Asia/Shanghai", "R001")
    state = engine.initial()
    ticks: list[float] = []
    msgs: list[float] = []
    end = WEEK_START + timedelta(days=1)
    for now, item in timeline(week(), tick_s, days=1):
        t0 = time.perf_counter()
        state = engine.evaluate(state, item, now).state
        (ticks if type(item).__name__ == "Tick" else msgs).append((time.perf_counter() - t0) * 1e6)
        if now >= end:
            break

    def q(xs: list[float], p: float) -> float:
        return statistics.quantiles(xs, n=100)[int(p) - 1] if len(xs) > 1 else xs[0]

    return {
        "tick_p50_us": round(q(ticks, 50), 1),
        "tick_p99_us": round(q(ticks, 99), 1),
        "message_p50_us": round(q(msgs, 50), 1),
        "message_p99_us": round(q(msgs, 99), 1),
        "messages_per_day": len(msgs),
    }


def worker_costs(events: int = 2000) -> dict[str, float]:
    """Microseconds per Gateway.decide for a motion event, including the persisted rule state (SQLite WAL)."""
    import tempfile
    from pathlib import Path

    from gateway.config import GatewaySettings
    from gateway.devices.router import Router
    from gateway.model import DeviceEvent, EventKind
    from gateway.outbox import Outbox
    from gateway.outbox_db import connect
    from gateway.service import Gateway

    with tempfile.TemporaryDirectory() as tmp:
        settings = GatewaySettings(gateway_id="bench", resident="R001", data_dir=Path(tmp))
        clock = {"t": WEEK_START.timestamp()}
        outbox = Outbox(connect(settings.outbox_path))
        gw = Gateway(
            settings,
            Router(settings),
            build_engine({}, settings.timezone, settings.resident),
            outbox,
            publish_local=lambda t, p: None,
            wake_uplink=lambda: None,
            clock=lambda: clock["t"],
        )
        costs = []
        for _ in range(events):
            clock["t"] += 30
            t0 = time.perf_counter()
            gw.decide(DeviceEvent("radar", EventKind.MOTION))
            costs.append((time.perf_counter() - t0) * 1e6)
        outbox.close()
    q = statistics.quantiles(costs, n=100)
    return {"worker_motion_p50_us": round(q[49], 1), "worker_motion_p99_us": round(q[98], 1)}


def main() -> None:
    """Run and print the numbers."""
    parser = argparse.ArgumentParser(prog="python -m bench.rules_week")
    parser.add_argument("--tick-s", type=float, default=10.0, help="simulated seconds between ticks")
    args = parser.parse_args()
    engine = build_engine({}, "Asia/Shanghai", "R001")
    t0 = time.perf_counter()
    result = run_week(engine, args.tick_s)
    wall = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "scenario": "rules_week",
                "python": platform.python_version(),
                "tick_s": args.tick_s,
                "evaluations": result.evaluations,
                "alarms": len(result.alarms),
                "wall_s": round(wall, 3),
                "evaluations_per_s": round(result.evaluations / wall),
                "simulated_to_real": round(7 * 86400 / wall),
                **per_input_costs(args.tick_s),
                **worker_costs(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
