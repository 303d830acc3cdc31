"""`python -m bench <scenario|all> [--quick] [--json]`."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from pathlib import Path

from bench.core import RESULTS, BenchError, Result, log, machine, render, save

# scenario name -> module under bench/ with a `run(quick) -> Result`
SCENARIOS: dict[str, str] = {
    "broker_limit": "bench.scenarios.broker_limit",
    "alarm_latency": "bench.scenarios.alarm_latency",
    "ingest": "bench.scenarios.ingest",
    "outage_drain": "bench.scenarios.outage",
    "gateway_footprint": "bench.scenarios.footprint",
    "connection_scale": "bench.scenarios.connections",
    "gateway_burst": "bench.scenarios.burst",
    "speech_start": "bench.scenarios.speech",
    "cluster": "bench.scenarios.cluster",
}


def run_one(name: str, quick: bool, gateways: int | None = None) -> Result:
    """Run one scenario and stamp the machine on its result."""
    info = machine()
    extra = {"gateways": gateways} if gateways and name == "connection_scale" else {}
    result: Result = importlib.import_module(SCENARIOS[name]).run(quick, **extra)
    result.machine = info
    return result


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench", description="Anxin benchmarks")
    parser.add_argument("scenario", choices=[*SCENARIOS, "all"])
    parser.add_argument("--quick", action="store_true", help="a few seconds per scenario (the smoke test uses it)")
    parser.add_argument("--json", action="store_true", help="print the result JSON instead of the table")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"where to write <scenario>.json ({RESULTS})")
    parser.add_argument("--gateways", type=int, help="connection_scale: how many gateways (default 1,000; 40 quick)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    failed = 0
    for name in names:
        try:
            result = run_one(name, args.quick, args.gateways)
        except BenchError as exc:
            print(f"bench {name}: {exc}", file=sys.stderr)
            failed += 1
            continue
        path = save(result, args.results)
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2) if args.json else render(result), flush=True)
        log(f"wrote {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
