"""Device benchmarks: parse throughput per family, and the worker's CPU per message for a home of ten devices.

`python -m bench.devices [--seconds S]` prints a table and a JSON line. Whole-process CPU and memory
of a running gateway are measured by the `gateway_footprint` scenario of `python -m bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from firmware_sim.native_devices import payload
from firmware_sim.serial_devices import BpMeasurement
from gateway.config import DeviceConfig, GatewaySettings
from gateway.devices import native, zigbee2mqtt
from gateway.devices.ble_bpm import BpmStream
from gateway.devices.rflink import RflinkStream
from gateway.devices.router import Router
from gateway.items import LocalMessage
from gateway.outbox import Outbox
from gateway.outbox_db import connect
from gateway.rules.defaults import build_engine
from gateway.service import Gateway

HOME = [
    DeviceConfig(name="sos-button", family="zigbee2mqtt", model="TS0215A_sos", role="sos_button"),
    DeviceConfig(name="radar", family="zigbee2mqtt", model="MIR-HE200-TY", role="fall_radar"),
    DeviceConfig(name="hall-motion", family="zigbee2mqtt", model="RTCGQ11LM", role="motion"),
    DeviceConfig(name="kitchen-motion", family="zigbee2mqtt", model="RTCGQ11LM", role="motion"),
    DeviceConfig(name="front-door", family="zigbee2mqtt", model="MCCGQ11LM", role="door"),
    DeviceConfig(name="climate", family="zigbee2mqtt", model="WSDCGQ11LM", role="climate"),
    DeviceConfig(name="wifi-button", family="native", role="sos_button"),
    DeviceConfig(name="wifi-bp", family="native", role="bp_monitor"),
    DeviceConfig(name="wrist", family="native", role="wearable"),
    DeviceConfig(name="bed-sensor", family="native", role="motion"),
]
Z2M_DEV, NATIVE_DEV = HOME[1], HOME[7]


def _rate(fn: Callable[[int], int], seconds: float) -> float:
    """Messages per CPU-second of fn(i) -> messages handled, run for about `seconds` of wall time.

    CPU time of this thread, not wall time, so other load on a shared machine does not deflate it.
    """
    n, i, start, cpu0 = 0, 0, time.perf_counter(), time.thread_time()
    while time.perf_counter() - start < seconds:
        n += fn(i)
        i += 1
    return n / (time.thread_time() - cpu0)


def parse_throughput(seconds: float) -> dict[str, float]:
    """Messages per second through each family's parser, on one core, with representative payloads."""
    z2m = json.dumps({"presence": True, "fall_down_status": "none", "linkquality": 108, "battery": 90}).encode()
    bp = json.dumps(
        payload(
            "bp", systolic=128, diastolic=84, pulse=66, measured_at="2026-11-28T07:30:00+08:00", flags=["body_movement"]
        )
    ).encode()
    accel = json.dumps(payload("accel", t0=1.0, rate_hz=50, unit="g", samples=[[0.01, -0.02, 1.0]] * 50)).encode()
    frames = b"".join(
        BpMeasurement(100 + i % 80, 70, 85, 70, datetime(2026, 1, 1) + timedelta(minutes=i)).frame()
        for i in range(1000)
    )
    lines = b"".join(f"20;{i % 256:02X};EV1527;ID={i:06x};SWITCH=01;CMD=ON;\r\n".encode() for i in range(1000))
    bpm, rf = BpmStream("bpm"), RflinkStream([])
    return {
        "zigbee2mqtt (radar state)": _rate(
            lambda i: len(zigbee2mqtt.parse("zigbee2mqtt/radar", z2m, Z2M_DEV)) and 1, seconds
        ),
        "native bp": _rate(lambda i: len(native.parse("anxin/dev/wifi-bp", bp, NATIVE_DEV)) and 1, seconds),
        "native accel (50 samples)": _rate(
            lambda i: len(native.parse("anxin/dev/wifi-bp", accel, NATIVE_DEV)) and 1, seconds
        ),
        "ble-bpm frames (SLIP+CRC+decode)": _rate(lambda i: len(bpm.feed(frames)), seconds),
        "rflink lines": _rate(lambda i: len(rf.feed(lines, i * 10.0)), seconds),
    }


def home_mix() -> list[tuple[str, bytes]]:
    """One hour of a ten-device home, compressed: what arrives on the local bus, in order."""
    out: list[tuple[str, bytes]] = []
    z = lambda name, doc: out.append((f"zigbee2mqtt/{name}", json.dumps(doc).encode()))  # noqa: E731
    n = lambda name, kind, **f: out.append((f"anxin/dev/{name}", json.dumps(payload(kind, **f)).encode()))  # noqa: E731
    for minute in range(60):
        for _ in range(0, 60, 30):
            z("radar", {"presence": True, "fall_down_status": "none", "linkquality": 100})
        for name in ("hall-motion", "kitchen-motion"):
            z(name, {"occupancy": minute % 3 == 0, "battery": 90, "linkquality": 80})
        n("bed-sensor", "heartbeat", uptime_s=minute * 60)
        n("wifi-button", "heartbeat", uptime_s=minute * 60)
        if minute % 5 == 0:
            z("climate", {"temperature": 22.5, "humidity": 45, "battery": 88, "linkquality": 60})
        if minute % 20 == 0:
            z("front-door", {"contact": minute % 40 == 0, "battery": 95, "linkquality": 70})
        for s in range(60):
            n("wrist", "accel", t0=minute * 60 + s, rate_hz=50, unit="g", samples=[[0.0, 0.0, 1.0]] * 50)
    n("wifi-bp", "bp", systolic=131, diastolic=83, pulse=70, measured_at="2026-11-28T07:30:00+08:00")
    z("sos-button", {"action": "emergency", "battery": 100, "linkquality": 150})
    return out


def worker_cpu(repeat: int) -> dict[str, float]:
    """CPU seconds the gateway worker spends per local message of the home mix (parse, store fsync'd, decide)."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = GatewaySettings(gateway_id="bench", data_dir=Path(tmp), devices=HOME)
        outbox = Outbox(connect(settings.outbox_path))
        gw = Gateway(settings, Router(settings), build_engine(), outbox, lambda t, p: None, lambda: None)
        mix = home_mix()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for _ in range(repeat):
            for topic, body in mix:
                gw.process(LocalMessage(topic, body))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        stored = outbox.count()
        outbox.close()
    messages = len(mix) * repeat
    per_hour_cpu = cpu / repeat
    return {
        "messages_per_hour": len(mix),
        "cpu_us_per_message": cpu / messages * 1e6,
        "wall_us_per_message": wall / messages * 1e6,
        "cpu_pct_of_one_core_at_real_rate": round(per_hour_cpu / 3600 * 100, 4),
        "stored_per_hour": stored / repeat,
        "parse_errors": float(gw.counters["parse_errors"]),
    }


def main(argv: list[str] | None = None) -> int:
    """Run both measurements and print them."""
    parser = argparse.ArgumentParser(prog="python -m bench.devices", description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="per parser")
    parser.add_argument("--hours", type=int, default=3, help="simulated hours of the home mix")
    args = parser.parse_args(argv)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    rates = parse_throughput(args.seconds)
    for name, rate in rates.items():
        print(f"{name:36s} {rate:>12,.0f} msg/CPU-s")
    home = worker_cpu(args.hours)
    for key, value in home.items():
        print(f"{key:36s} {value:>12,.2f}")
    print(json.dumps({"parse_msgs_per_s": rates, "home_worker": home}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
