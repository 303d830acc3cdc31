"""Reliability benchmarks: outbox throughput (FULL vs NORMAL), SD-card bytes per day for a typical
home, and, with real Mosquitto brokers and the real server, the time from reconnect to the first
alarm and the backlog drain rate after an outage.

Run: python -m bench.reliability [--backlog 10000] [--database-url URL] [--skip-drain]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from anxin.ports import free_port, wait_for_port
from gateway.outbox import Outbox
from gateway.outbox_db import connect

READING = {
    "device": "climate-1",
    "metric": "climate",
    "values": {"temperature": 21.5, "humidity": 48.0},
    "flags": [],
    "detail": {},
    "measured_at": None,
}
ALARM = {
    "type": "sos",
    "severity": "emergency",
    "change": "raise",
    "device": "sos-button",
    "message": "SOS button pressed",
    "detail": {"action": "emergency"},
    "resident": "R001",
}


def outbox_throughput(workdir: Path) -> dict[str, float]:
    """Events per second stored one transaction each (FULL for alarms, NORMAL for readings), and in batches."""
    box = Outbox(connect(workdir / "tp.sqlite"))
    box.recover(time.time())
    out: dict[str, float] = {}
    t = time.perf_counter()
    for _ in range(500):
        box.put_alarm(ALARM, time.time())
    out["alarm_full_per_s"] = 500 / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(5000):
        box.put("reading", READING, time.time())
    out["reading_normal_per_s"] = 5000 / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(200):
        box.put_many([("reading", time.time(), None, READING)] * 100)
    out["reading_normal_batch100_per_s"] = 20000 / (time.perf_counter() - t)
    box.close()
    return out


def typical_day() -> list[tuple[str, dict[str, Any]]]:
    """One day of a typical home, as events reach the outbox (zigbee2mqtt adds a status reading to each report).

    3 climate sensors reporting every minute, 2 motion sensors (300 reports each), a door contact
    (60), blood pressure twice a day, a fall radar's presence (200), hourly heartbeats of 8 devices.
    """
    day: list[tuple[str, dict[str, Any]]] = []
    status = {
        "device": "x",
        "metric": "device_status",
        "values": {"battery": 91, "linkquality": 120},
        "flags": [],
        "detail": {},
        "measured_at": None,
    }
    for _ in range(3 * 1440):
        day += [("reading", READING), ("reading", status)]
    for kind, n in (("motion", 600), ("door_open", 60), ("motion", 200)):
        for _ in range(n):
            day += [("event", {"device": "pir-1", "kind": kind, "detail": {}}), ("reading", status)]
    day += [
        ("reading", {**READING, "metric": "blood_pressure", "values": {"systolic": 132, "diastolic": 84, "pulse": 71}})
    ] * 4
    day += [("reading", status)] * (8 * 24)
    return day


def io_written() -> tuple[int, int]:
    """(bytes passed to write(), bytes sent to the storage layer) by this process so far."""
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(fields["wchar"]), int(fields["write_bytes"])


def bytes_per_day(workdir: Path, homes_factor: int = 1) -> dict[str, float]:
    """Store and acknowledge one (or several) typical days, as the gateway does, and count bytes written."""
    box = Outbox(connect(workdir / "day.sqlite"))
    box.recover(time.time())
    day = typical_day() * homes_factor
    alarms = 2 * homes_factor
    w0, b0 = io_written()
    for i, (lane, body) in enumerate(day):
        with box.source(f"{i % 65536}:{i:016x}"):  # as the worker tags what each local message stored
            seq = box.put(lane, body, time.time())
        box.ack([seq])  # online: acknowledged within milliseconds, each event its own batch
        if i % (len(day) // max(alarms, 1) + 1) == 0:
            box.ack([box.put_alarm(ALARM, time.time())])
    box.close()
    w1, b1 = io_written()
    return {
        "events_per_day": len(day) + alarms,
        "write_syscall_mb_per_day": (w1 - w0) / 1e6 / homes_factor,
        "block_layer_mb_per_day": (b1 - b0) / 1e6 / homes_factor,
    }


class Broker:
    """A Mosquitto for the benchmark."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.conf = workdir / f"m{self.port}.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start and wait for the port."""
        self.proc = subprocess.Popen(
            [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_for_port(self.port, timeout=10)

    def stop(self) -> None:
        """Terminate."""
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)


def drain(workdir: Path, backlog: int, database_url: str | None) -> dict[str, float]:
    """Outage with `backlog` readings and 3 alarms queued; reconnect; time first alarm and full drain."""
    from anxin.mqtt import BrokerAddress
    from firmware_sim.installation import build_home, gateway_settings
    from server.db.models import Alarm, IngestedEvent
    from server.runtime import build_runtime
    from server.settings import ServerSettings

    home, central = Broker(workdir), Broker(workdir)
    home.start()
    central.start()
    settings = ServerSettings(
        port=free_port(),
        embedded_broker=False,
        mqtt=BrokerAddress(port=central.port),
        secret_key="bench-secret-of-the-stack",
        database_url=database_url or f"sqlite:///{workdir}/server.db",
    )
    server = build_runtime(settings)
    server.start(serve_http=False)
    sim = build_home(
        gateway_settings(
            "gw-bench", "R001", BrokerAddress(port=home.port), BrokerAddress(port=central.port), workdir / "gw"
        )
    )
    sim.start()
    gw = sim.gateway
    try:
        central.stop()
        time.sleep(1)
        rows = [("reading", time.time(), None, {**READING, "values": {"humidity": float(i)}}) for i in range(backlog)]
        for start in range(0, backlog, 1000):
            gw.outbox.put_many(rows[start : start + 1000])
            if start in (0, backlog // 2, backlog - 1000):
                gw.outbox.put_alarm(ALARM, time.time())
        queued = gw.outbox.count()
        central.start()
        assert gw.central.wait_connected(30)
        t0 = time.perf_counter()
        first_alarm = None
        while True:
            with server.services.sessions() as s:
                if first_alarm is None and s.query(IngestedEvent).filter_by(lane="alarm").count():
                    first_alarm = time.perf_counter() - t0
            if gw.outbox.count() == 0:
                break
            time.sleep(0.002 if first_alarm is None else 0.05)
        total = time.perf_counter() - t0
        with server.services.sessions() as s:
            stored = s.query(IngestedEvent).count()
            alarms = s.query(Alarm).count()
        return {
            "queued": queued,
            "stored": stored,
            "alarms": alarms,
            "reconnect_to_first_alarm_s": first_alarm or -1,
            "drain_s": total,
            "drain_events_per_s": queued / total,
        }
    finally:
        sim.stop()
        server.stop()
        central.stop()
        home.stop()


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print one JSON document."""
    parser = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__)
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--database-url", help="server database (default: SQLite in a temp dir)")
    parser.add_argument("--skip-drain", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="anxin-bench-", dir=".") as tmp:
        work = Path(tmp)
        result: dict[str, Any] = {
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "python": platform.python_version(),
        }
        result["outbox"] = outbox_throughput(work)
        result["sd_card"] = bytes_per_day(work)
        if not args.skip_drain:
            result["drain"] = drain(work, args.backlog, args.database_url)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
