"""Scenario 4: RSS and CPU of one gateway process for a typical home (ten devices, one 50 Hz wearable)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import paho.mqtt.client as paho
import psutil
import yaml

from anxin.mqtt import BrokerAddress, MqttLink, make_client
from bench.core import BenchError, Result, Stopwatch, Target, log
from bench.scenarios import broker_limit
from bench.stack import REPO, ServerProcess, child_env, count_rows, provision_database
from firmware_sim.wearable import accel_messages, native_topic
from gateway.devices.router import subscriptions
from tests.mosquitto import Mosquitto

TARGET_RSS_MB = 80.0
TARGET_CPU_PCT = 5.0
WEARABLE_HZ = 50
WEARABLE_CHUNK = 50  # samples per message: one native `accel` message a second, as firmware_sim.wearable sends
WEARABLE = "wrist-1"
WEARABLE_TOPIC = native_topic(WEARABLE)

# name, zigbee2mqtt model, role, seconds between reports, what it reports
DEVICES: list[tuple[str, str, str, float, dict[str, object]]] = [
    ("sos-button", "TS0215A_sos", "sos_button", 60.0, {"battery": 91, "linkquality": 120}),
    ("fall-radar", "MIR-HE200-TY", "fall_radar", 10.0, {"presence": True, "fall_down_status": "none"}),
    ("motion-bedroom", "RTCGQ11LM", "motion", 10.0, {"occupancy": True, "battery": 88}),
    ("motion-kitchen", "RTCGQ11LM", "motion", 10.0, {"occupancy": False, "battery": 77}),
    ("motion-bathroom", "RTCGQ11LM", "motion", 10.0, {"occupancy": False, "battery": 80}),
    ("door-entrance", "MCCGQ11LM", "door", 30.0, {"contact": True, "battery": 95}),
    ("door-fridge", "MCCGQ11LM", "door", 30.0, {"contact": True, "battery": 93}),
    ("climate-bedroom", "WSDCGQ11LM", "climate", 10.0, {"temperature": 22.1, "humidity": 45.0, "battery": 90}),
    ("climate-living", "WSDCGQ11LM", "climate", 10.0, {"temperature": 23.4, "humidity": 41.0, "battery": 86}),
    ("climate-bathroom", "WSDCGQ11LM", "climate", 10.0, {"temperature": 24.9, "humidity": 68.0, "battery": 84}),
]


def gateway_yaml(path: Path, local: BrokerAddress, central: BrokerAddress) -> Path:
    """The home's gateway configuration file."""
    doc = {
        "gateway_id": "gw-r001",
        "resident": "R001",
        "data_dir": str(path.parent / "gw"),
        "local_broker": {"host": local.host, "port": local.port},
        "central_broker": {"host": central.host, "port": central.port},
        "devices": [{"name": n, "family": "zigbee2mqtt", "model": m, "role": r} for n, m, r, _i, _d in DEVICES]
        + [{"name": WEARABLE, "family": "native", "role": "wearable", "report_interval_s": 120}],
    }
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def wearable_payload(t0: float, k: int) -> bytes:
    """One second of 50 Hz acceleration in g (a resident walking about), as a native `accel` message."""
    i = np.arange(k * WEARABLE_CHUNK, (k + 1) * WEARABLE_CHUNK)
    xyz = np.stack([0.15 * np.sin(i / 4.0), 0.05 * np.cos(i / 6.0), 1.0 + 0.2 * np.sin(i / 3.0)], axis=1)
    doc = next(accel_messages(xyz, t0, WEARABLE_HZ, chunk_s=WEARABLE_CHUNK / WEARABLE_HZ))
    return json.dumps(doc).encode()


class Household:
    """Plays the ten devices and the wearable on the home's bus at their real rates."""

    def __init__(self, local: BrokerAddress) -> None:
        self.link = MqttLink(make_client("bench-household"), local, lambda t, p: None)
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        """Connect and start publishing."""
        self.link.start()
        if not self.link.wait_connected(10):
            raise BenchError("the household could not reach the home broker")
        self._thread.start()

    def _run(self) -> None:
        start = time.monotonic()
        due = {name: start + i * 0.7 for i, (name, *_r) in enumerate(DEVICES)}
        k, next_chunk = 0, start
        while not self._stop.is_set():
            now = time.monotonic()
            for name, _m, _r, every, doc in DEVICES:
                if now >= due[name]:
                    due[name] += every
                    self.link.publish(f"zigbee2mqtt/{name}", json.dumps({**doc, "linkquality": 110}).encode())
                    self.sent += 1
            if now >= next_chunk:
                self.link.publish(WEARABLE_TOPIC, wearable_payload(time.time(), k), qos=0)
                k, next_chunk, self.sent = k + 1, next_chunk + WEARABLE_CHUNK / WEARABLE_HZ, self.sent + 1
            self._stop.wait(0.05)

    def stop(self) -> None:
        """Stop publishing."""
        self._stop.set()
        self._thread.join(5)
        self.link.stop()


def run(quick: bool) -> Result:
    """Run the gateway process beside a real server for `seconds`, sampling it once a second."""
    clock = Stopwatch()
    seconds = 5.0 if quick else 300.0
    result = Result("gateway_footprint", quick)
    with tempfile.TemporaryDirectory(prefix="anxin-bench-") as tmp:
        work = Path(tmp)
        central, local = Mosquitto(work).start(), Mosquitto(work).start()
        server = gw = household = None
        try:
            ref = broker_limit.reference(central.address, quick)
            url = f"sqlite:///{work}/footprint.db"
            provision_database(url, 1, [])
            server = ServerProcess(work, central.address, url).start()
            config = gateway_yaml(work / "gateway.yaml", local.address, central.address)
            with open(work / "gateway.log", "ab") as out:
                gw = subprocess.Popen(
                    [sys.executable, "-m", "gateway", "--log-level", "WARNING", "run", "--config", str(config)],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=child_env(),
                    cwd=REPO,
                )
            proc = psutil.Process(gw.pid)
            time.sleep(2.0)  # imports and connections are start-up, not the steady state
            household = Household(local.address)
            household.start()
            log(f"gateway footprint: sampling for {seconds:.0f} s")
            cpu0, t0, rss = proc.cpu_times(), time.monotonic(), []
            while time.monotonic() - t0 < seconds:
                time.sleep(1.0)
                if gw.poll() is not None:
                    raise BenchError(f"the gateway exited with {gw.returncode}; see {work / 'gateway.log'}")
                rss.append(proc.memory_info().rss / 2**20)
            cpu1, elapsed = proc.cpu_times(), time.monotonic() - t0
            sent = household.sent
            stored = count_rows(url, "readings")
            log_tail = (work / "gateway.log").read_text(errors="replace").splitlines()[-3:]
        finally:
            if household:
                household.stop()
            if gw and gw.poll() is None:
                gw.terminate()
                gw.wait(15)
            if server:
                server.stop()
            central.stop()
            local.stop()
    cpu_pct = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / elapsed * 100
    m = result.metrics
    m.update(
        {
            "seconds": elapsed,
            "rss_mb_max": max(rss),
            "rss_mb_end": rss[-1],
            "rss_mb_start": rss[0],
            "cpu_pct_of_one_core": cpu_pct,
            "local_messages": sent,
            "local_messages_per_s": sent / elapsed,
            "readings_stored": stored,
            "broker_single_msgs_per_s": ref["single_msgs_per_s"],
        }
    )
    m["load_vs_broker"] = m["local_messages_per_s"] / ref["single_msgs_per_s"]
    result.rows = [
        {"figure": "RSS at start / end / max (MB)", "value": f"{rss[0]:.1f} / {rss[-1]:.1f} / {max(rss):.1f}"},
        {"figure": "CPU, % of one core", "value": f"{cpu_pct:.2f}"},
        {"figure": "local messages / s (10 devices + 50 Hz wearable)", "value": f"{m['local_messages_per_s']:.1f}"},
        {"figure": "readings stored on the server", "value": f"{stored:,}"},
        {"figure": "local message rate ÷ broker limit (single QoS 1)", "value": f"{m['load_vs_broker']:.2%}"},
    ]
    result.targets = [
        Target("gateway RSS", max(rss), TARGET_RSS_MB, "MB"),
        Target("gateway CPU", cpu_pct, TARGET_CPU_PCT, "% of one core"),
    ]
    if not any(paho.topic_matches_sub(flt, WEARABLE_TOPIC) for flt, _q in subscriptions()):
        result.notes.append(
            f"this gateway does not subscribe to {WEARABLE_TOPIC}: the wearable's stream reached the "
            "home broker but not the gateway, so its cost is not in these figures"
        )
    result.notes += [broker_limit.summary(ref), f"gateway log tail: {' | '.join(log_tail) if log_tail else '(empty)'}"]
    result.anchors = ["thingsboard-gateway: 70 MB RSS with in-memory storage; memory 1 GB -> 6 GB reported (#1445)"]
    result.duration_s = clock.elapsed
    return result
