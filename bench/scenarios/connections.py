"""Scenario 6: 1,000 simulated gateways connected at once — server memory, heartbeats, reconnect storm.

`--gateways N` runs N (10,000: the issue's "ten thousand quiet homes per node"): N / 500 fleet
processes, the file-descriptor limit raised for the broker. A heartbeat is what a quiet home sends
to be known alive: an empty uplink batch, acknowledged by the server (`heartbeat="reading"`: one
reading instead, stored before its ack — the heartbeat of the figures before issue 22).
"""

from __future__ import annotations

import math
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.core import BenchError, Result, Stopwatch, Target, log, percentiles
from bench.scenarios import broker_limit
from bench.stack import FleetProcess, ServerProcess, provision_database
from tests.mosquitto import Mosquitto


def _total(fleets: list[FleetProcess], key: str) -> float:
    return sum(f.latest.get(key, 0) for f in fleets)


def _wait_total(
    fleets: list[FleetProcess], key: str, value: float, timeout: float, since: float | None = None
) -> float | None:
    """Seconds (from `since`, default now) until the fleets' summed status `key` reaches value, or None."""
    t0 = time.monotonic() if since is None else since
    while time.monotonic() - t0 < timeout:
        if _total(fleets, key) >= value:
            return time.monotonic() - t0
        time.sleep(0.1)
    return None


PER_PROCESS = 500  # gateways per fleet process (one selector thread serves them all: bench/fleet_loop.py)


def raise_fd_limit(connections: int) -> int:
    """Raise this process's open-file limit to the hard limit (the broker inherits it); BenchError if too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    limit = max(soft, hard)
    if limit < connections + 200:
        raise BenchError(f"{connections} connections need more than the open-file limit of {limit} (ulimit -Hn)")
    return limit


def run(quick: bool, gateways: int | None = None, heartbeat: str = "empty") -> Result:
    """Connect the fleet, let it heartbeat, restart the broker under it, count what went wrong."""
    clock = Stopwatch()
    gateways = gateways or (40 if quick else 1000)
    beat = 1.0 if quick else 10.0
    processes = max(1, math.ceil(gateways / PER_PROCESS))
    result = Result("connection_scale", quick)
    per = math.ceil(gateways / processes)
    raise_fd_limit(gateways)
    slack = gateways / 100  # seconds more to connect, or reconnect, per hundred gateways
    with tempfile.TemporaryDirectory(prefix="anxin-bench-") as tmp:
        work = Path(tmp)
        broker = Mosquitto(work, extra_conf="max_connections -1").start()
        server = None
        fleets: list[FleetProcess] = []
        try:
            ref = broker_limit.reference(broker.address, quick)
            url = f"sqlite:///{work}/scale.db"
            provision_database(url, gateways, [])
            server = ServerProcess(work, broker.address, url).start()
            time.sleep(2.0)
            rss_before = server.rss_mb()
            idle0, i0 = server.process.cpu_times(), time.monotonic()
            time.sleep(3.0)  # the server's own rounds (desk, probe) with no gateway: subtracted below
            idle1, i1 = server.process.cpu_times(), time.monotonic()
            idle_pct = (idle1.user + idle1.system - idle0.user - idle0.system) / (i1 - i0) * 100
            log(f"connecting {gateways} gateways from {processes} processes")
            fleets = [
                FleetProcess(
                    broker.address,
                    min(per, gateways - i * per),
                    first=1 + i * per,
                    batch=0 if heartbeat == "empty" else 1,
                    interval=beat,
                ).start()
                for i in range(processes)
            ]
            t_connect = _wait_total(fleets, "connected", gateways, 120 + slack)
            if t_connect is None:
                raise BenchError(f"only {_total(fleets, 'connected'):.0f} of {gateways} gateways connected")
            # two heartbeat rounds: every gateway has sent, been stored and acknowledged
            if _wait_total(fleets, "acked", 2 * gateways, 4 * beat + 60 + slack) is None:
                raise BenchError(f"heartbeats not acknowledged: {_total(fleets, 'acked'):.0f} of {2 * gateways}")
            rss_connected = server.rss_mb()
            connect_lags = [v for f in fleets for v in f.mark_phase()]
            cpu0, t0, acked0 = server.process.cpu_times(), time.monotonic(), _total(fleets, "acked")
            time.sleep(3 * beat)
            cpu1, t1, acked1 = server.process.cpu_times(), time.monotonic(), _total(fleets, "acked")
            sent_steady = _total(fleets, "sent")
            steady_lags = [v for f in fleets for v in f.mark_phase()]
            # every heartbeat sent so far is acknowledged (none lost, none stuck)
            all_acked = _wait_total(fleets, "acked", sent_steady, 2 * beat + 10) is not None
            rss_steady = server.rss_mb()
            acked_before = _total(fleets, "acked")
            log("restarting the broker under the fleet")
            t_restart = time.monotonic()
            broker.restart(down_for=1.0)
            time.sleep(2.0)  # the fleets' status lines lag by up to a second: let them see the drop
            t_storm = _wait_total(fleets, "connected", gateways, 180 + slack, since=t_restart)
            # every gateway sends its next heartbeat on the new connection and gets it acknowledged
            t_resumed = _wait_total(fleets, "acked", acked_before + gateways, 3 * beat + 120 + slack, since=t_restart)
            summaries = [f.stop() for f in fleets]
            fleets = []
            server_alive = server.proc is not None and server.proc.poll() is None
        finally:
            for f in fleets:
                f.stop()
            if server:
                server.stop()
            broker.stop()
    lags = percentiles(steady_lags)
    during_connect = percentiles(connect_lags)
    after_storm = percentiles([v for s in summaries for v in s.get("lags", [])])
    errors = sum(s.get("errors", 0) for s in summaries) + sum(s.get("rejected", 0) for s in summaries)
    cpu_s = cpu1.user + cpu1.system - cpu0.user - cpu0.system
    beats = max(1.0, acked1 - acked0)  # status lines lag by up to 1 s at both ends: the same lag
    m: dict[str, Any] = result.metrics
    m.update(
        {
            "gateways": gateways,
            "connect_all_s": t_connect,
            "server_rss_before_mb": rss_before,
            "server_rss_connected_mb": rss_connected,
            "server_kb_per_gateway": (rss_connected - rss_before) * 1024 / gateways,
            "heartbeat_ack_p50_ms": lags["p50"],
            "heartbeat_ack_p99_ms": lags["p99"],
            "heartbeat_ack_max_ms": lags["max"],
            "connect_phase_ack_p99_ms": during_connect["p99"],
            "storm_phase_ack_p99_ms": after_storm["p99"],
            "heartbeats_acked": sum(s.get("acked", 0) for s in summaries),
            "server_cpu_pct_heartbeats": cpu_s / (t1 - t0) * 100,
            "heartbeats_per_s": beats / (t1 - t0),
            "server_cpu_ms_per_heartbeat": cpu_s * 1000 / beats,
            "server_cpu_pct_idle": idle_pct,
            "server_cpu_ms_per_heartbeat_over_idle": (cpu_s - idle_pct / 100 * (t1 - t0)) * 1000 / beats,
            "server_rss_steady_mb": rss_steady,
            "all_heartbeats_acked": 1.0 if all_acked else 0.0,
            "reconnect_all_s": t_storm if t_storm is not None else -1.0,
            "heartbeats_resumed_s": t_resumed if t_resumed is not None else -1.0,
            "errors": errors,
            "server_alive": 1.0 if server_alive else 0.0,
            "broker_single_msgs_per_s": ref["single_msgs_per_s"],
        }
    )
    m["heartbeats_per_s_vs_broker"] = gateways / beat / ref["single_msgs_per_s"]
    result.rows = [
        {"figure": f"all {gateways} connected", "value": f"{t_connect:.1f} s"},
        {"figure": "server RSS before / with all connected", "value": f"{rss_before:.0f} / {rss_connected:.0f} MB"},
        {"figure": "server memory per gateway", "value": f"{m['server_kb_per_gateway']:.0f} KB"},
        {
            "figure": f"heartbeat ack p50 / p99 / max, steady ({gateways / beat:.0f} per s)",
            "value": f"{lags['p50']:.1f} / {lags['p99']:.1f} / {lags['max']:.0f} ms",
        },
        {
            "figure": "heartbeat ack p99 while all connect / after the restart",
            "value": f"{during_connect['p99']:.0f} / {after_storm['p99']:.0f} ms",
        },
        {"figure": "server CPU while heartbeating", "value": f"{m['server_cpu_pct_heartbeats']:.1f} % of one core"},
        {
            "figure": f"server CPU per heartbeat ({m['heartbeats_per_s']:.0f} heartbeats/s measured)",
            "value": f"{m['server_cpu_ms_per_heartbeat']:.3f} ms",
        },
        {
            "figure": f"the same over the idle server's own {idle_pct:.1f} % of a core",
            "value": f"{m['server_cpu_ms_per_heartbeat_over_idle']:.3f} ms",
        },
        {"figure": "server RSS while heartbeating", "value": f"{rss_steady:.0f} MB"},
        {"figure": "every heartbeat sent was acknowledged", "value": "yes" if all_acked else "NO"},
        {"figure": "broker restart (down 1 s): all reconnected", "value": f"{m['reconnect_all_s']:.1f} s"},
        {"figure": "broker restart: every gateway acked again", "value": f"{m['heartbeats_resumed_s']:.1f} s"},
        {"figure": "errors (publish failures, rejects)", "value": f"{errors}"},
        {"figure": "heartbeat rate ÷ broker limit (single QoS 1)", "value": f"{m['heartbeats_per_s_vs_broker']:.1%}"},
    ]
    result.targets = [
        Target(f"{gateways} gateways without error", errors + (0 if t_storm and t_resumed else 1), 0, "errors"),
        Target("every heartbeat acknowledged", m["all_heartbeats_acked"], 1.0, "", higher_is_better=True),
        Target("server CPU per heartbeat (issue 22)", m["server_cpu_ms_per_heartbeat"], 0.5, "ms"),
        Target("server CPU while heartbeating", m["server_cpu_pct_heartbeats"], 100.0, "% of a core"),
    ]
    result.notes += [
        broker_limit.summary(ref),
        f"each gateway: own paho client with a last will, a retained online state, "
        f"{'an empty batch' if heartbeat == 'empty' else 'one reading'} as a heartbeat every {beat:.0f} s; "
        f"{processes} fleet process(es); broker down 1 s",
    ]
    result.anchors = [
        "ThingsBoard: about 66 KB of memory per connected device",
        "EMQX clusters: millions of connections (for scale past one Mosquitto)",
    ]
    result.duration_s = clock.elapsed
    return result
