"""Scenario 6: 1,000 simulated gateways connected at once — server memory, heartbeats, reconnect storm."""

from __future__ import annotations

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


def run(quick: bool) -> Result:
    """Connect the fleet, let it heartbeat, restart the broker under it, count what went wrong."""
    clock = Stopwatch()
    gateways, processes, beat = (40, 1, 1.0) if quick else (1000, 4, 10.0)
    result = Result("connection_scale", quick)
    per = gateways // processes
    with tempfile.TemporaryDirectory(prefix="anxin-bench-") as tmp:
        work = Path(tmp)
        broker = Mosquitto(work).start()
        server = None
        fleets: list[FleetProcess] = []
        try:
            ref = broker_limit.reference(broker.address, quick)
            url = f"sqlite:///{work}/scale.db"
            provision_database(url, gateways, [])
            server = ServerProcess(work, broker.address, url).start()
            time.sleep(2.0)
            rss_before = server.rss_mb()
            log(f"connecting {gateways} gateways from {processes} processes")
            fleets = [
                FleetProcess(broker.address, per, first=1 + i * per, batch=1, interval=beat).start()
                for i in range(processes)
            ]
            t_connect = _wait_total(fleets, "connected", gateways, 120)
            if t_connect is None:
                raise BenchError(f"only {_total(fleets, 'connected'):.0f} of {gateways} gateways connected")
            # two heartbeat rounds: every gateway has sent, been stored and acknowledged
            if _wait_total(fleets, "acked", 2 * gateways, 4 * beat + 60) is None:
                raise BenchError(f"heartbeats not acknowledged: {_total(fleets, 'acked'):.0f} of {2 * gateways}")
            rss_connected = server.rss_mb()
            connect_lags = [v for f in fleets for v in f.mark_phase()]
            cpu0, t0 = server.process.cpu_times(), time.monotonic()
            time.sleep(3 * beat)
            cpu1, t1 = server.process.cpu_times(), time.monotonic()
            steady_lags = [v for f in fleets for v in f.mark_phase()]
            acked_before = _total(fleets, "acked")
            log("restarting the broker under the fleet")
            t_restart = time.monotonic()
            broker.restart(down_for=1.0)
            time.sleep(2.0)  # the fleets' status lines lag by up to a second: let them see the drop
            t_storm = _wait_total(fleets, "connected", gateways, 180, since=t_restart)
            # every gateway sends its next heartbeat on the new connection and gets it acknowledged
            t_resumed = _wait_total(fleets, "acked", acked_before + gateways, 3 * beat + 120, since=t_restart)
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
            "server_cpu_pct_heartbeats": (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / (t1 - t0) * 100,
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
        {"figure": "broker restart (down 1 s): all reconnected", "value": f"{m['reconnect_all_s']:.1f} s"},
        {"figure": "broker restart: every gateway acked again", "value": f"{m['heartbeats_resumed_s']:.1f} s"},
        {"figure": "errors (publish failures, rejects)", "value": f"{errors}"},
        {"figure": "heartbeat rate ÷ broker limit (single QoS 1)", "value": f"{m['heartbeats_per_s_vs_broker']:.1%}"},
    ]
    result.targets = [
        Target(f"{gateways} gateways without error", errors + (0 if t_storm and t_resumed else 1), 0, "errors")
    ]
    result.notes += [
        broker_limit.summary(ref),
        f"each gateway: own paho client with a last will, a retained online state, one reading as a "
        f"heartbeat every {beat:.0f} s; {processes} fleet process(es); broker down 1 s",
    ]
    result.anchors = [
        "ThingsBoard: about 66 KB of memory per connected device",
        "EMQX clusters: millions of connections (for scale past one Mosquitto)",
    ]
    result.duration_s = clock.elapsed
    return result
