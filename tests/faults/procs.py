"""Real processes for fault injection: `anxin-server run` and `anxin-gateway run` as subprocesses,
devices publishing on the home broker, and what the server stored, read from its database."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from anxin.mqtt import BrokerAddress, MqttLink, make_client
from anxin.ports import free_port, wait_for_port
from gateway.outbox_db import used_bytes

GATEWAY_ID = "gw-f1"


class Proc:
    """A child process with its log in the test's directory; kill() is kill -9."""

    def __init__(self, name: str, argv: list[str], workdir: Path) -> None:
        self.name, self.argv, self.workdir = name, argv, workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        """Start (again), appending to the same log."""
        self.starts += 1
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.workdir / f"{self.name}.log", "ab") as log:  # the child keeps its own copy of the file
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir)

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind runs."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not go."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        """What the process printed (for failure messages)."""
        return (self.workdir / f"{self.name}.log").read_text(errors="replace")[-4000:]


class ServerProc(Proc):
    """`anxin-server run` on an external broker with a SQLite file."""

    def __init__(self, workdir: Path, central: BrokerAddress) -> None:
        self.db = workdir / "server.db"
        self.port = free_port()
        super().__init__(
            "server",
            [
                sys.executable,
                "-m",
                "server",
                "--database-url",
                f"sqlite:///{self.db}",
                "run",
                "--no-embedded-broker",
                "--mqtt-port",
                str(central.port),
                "--port",
                str(self.port),
            ],
            workdir,
        )

    def start(self) -> None:
        """Start and wait for the HTTP port (the MQTT link is up by then)."""
        super().start()
        if not wait_for_port(self.port, timeout=60):
            raise RuntimeError(f"server did not start:\n{self.log()}")

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Read the server's database directly (what staff and doctors would see)."""
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            return []  # the schema is not created yet
        finally:
            conn.close()


class GatewayProc(Proc):
    """`anxin-gateway run --config FILE` for one home with an SOS button and a climate sensor."""

    def __init__(self, workdir: Path, local: BrokerAddress, central: BrokerAddress, **extra: Any) -> None:
        self.config = workdir / "gateway.yaml"
        cfg: dict[str, Any] = {
            "gateway_id": GATEWAY_ID,
            "resident": "R001",
            "data_dir": str(workdir / "gw"),
            "local_broker": {"host": local.host, "port": local.port},
            "central_broker": {"host": central.host, "port": central.port, "keepalive": 5},
            "uplink": {"resend_after_s": 2.0, "max_resend_after_s": 4.0, "stuck_after_s": 6.0},
            "devices": [
                {"name": "sos-button", "family": "zigbee2mqtt", "model": "TS0215A_sos", "role": "sos_button"},
                {"name": "climate-1", "family": "zigbee2mqtt", "role": "climate"},
            ],
        }
        for key, value in extra.items():
            cfg[key] = {**cfg.get(key, {}), **value} if isinstance(value, dict) else value
        self.config.write_text(yaml.safe_dump(cfg, allow_unicode=True))
        super().__init__("gateway", [sys.executable, "-m", "gateway", "run", "--config", str(self.config)], workdir)
        self.outbox = workdir / "gw" / f"outbox-{GATEWAY_ID}.sqlite"

    def outbox_bytes(self) -> int:
        """Bytes of outbox pages in use, as the gateway's disk cap counts them (gateway/outbox_db.py)."""
        conn = sqlite3.connect(f"file:{self.outbox}?mode=ro", uri=True, timeout=10)
        try:
            return used_bytes(conn)
        finally:
            conn.close()

    def holds(self, alarms: int, last_reading: int) -> bool:
        """The outbox has `alarms` alarms and the reading numbered `last_reading` (the worker caught up)."""
        conn = sqlite3.connect(f"file:{self.outbox}?mode=ro", uri=True, timeout=10)
        try:
            n = conn.execute("SELECT COUNT(*) FROM outbox WHERE lane_name = 'alarm'").fetchone()[0]
            last = conn.execute(
                "SELECT COUNT(*) FROM outbox WHERE lane_name = 'reading' AND "
                "json_extract(body, '$.values.humidity') = ?",
                (last_reading,),
            ).fetchone()[0]
            return n >= alarms and last > 0
        except sqlite3.OperationalError:
            return False
        finally:
            conn.close()


@dataclass
class Devices:
    """The home's devices on its local broker; readings carry a serial number to count them."""

    link: MqttLink
    readings: list[int] = field(default_factory=list)
    presses: int = 0
    _last: Any = None

    def reading(self, n: int) -> None:
        """One climate reading; `humidity` carries n so every reading is identifiable."""
        self._last = self.link.publish(
            "zigbee2mqtt/climate-1", json.dumps({"temperature": 21.5, "humidity": n}).encode(), 1
        )
        self.readings.append(n)

    def stream(self, first: int, count: int, per_s: float = 0.0) -> None:
        """count readings, paced when per_s is given."""
        for n in range(first, first + count):
            self.reading(n)
            if per_s and n % 20 == 0:
                time.sleep(20 / per_s)

    def press(self) -> None:
        """Press the SOS button."""
        self._last = self.link.publish(
            "zigbee2mqtt/sos-button", json.dumps({"action": "emergency", "battery": 90}).encode(), 1
        )
        self.presses += 1

    def flush(self) -> None:
        """Wait until the local broker has every publish."""
        if self._last is not None:
            self._last.wait_for_publish(30)


def devices(local: BrokerAddress) -> Devices:
    """A connected device publisher."""
    link = MqttLink(make_client("fault-devices"), local, lambda t, p: None)
    link.start()
    assert link.wait_connected(10), "the home broker is not reachable"
    return Devices(link)


@dataclass
class Stored:
    """What the server committed for the gateway: its event records in commit order, and its readings."""

    rows: list[tuple[int, int, str, dict[str, Any] | None]]  # (row id, seq, lane, body; None for readings)
    readings: list[tuple[str, dict[str, Any]]]  # (metric, values) in commit order

    @property
    def humidity(self) -> Counter[int]:
        """How many times each reading serial was stored."""
        return Counter(int(v["humidity"]) for metric, v in self.readings if metric == "climate")

    def metric(self, name: str) -> int:
        """How many readings of one metric were stored."""
        return sum(1 for m, _v in self.readings if m == name)

    def lane(self, name: str) -> list[tuple[int, int, str, dict[str, Any] | None]]:
        """Rows of one lane, in commit order."""
        return [r for r in self.rows if r[2] == name]

    def high_seq(self) -> int:
        """The highest sequence number stored."""
        return max((s for _i, s, _l, _b in self.rows), default=0)

    def thinned(self) -> int:
        """Readings the gateway reports it dropped at the disk cap."""
        return sum(int(b.get("count", 0)) for _i, _s, _l, b in self.lane("gap") if b and b.get("reason") == "disk_cap")


def stored(server: ServerProc) -> Stored:
    """Everything the server stored from the test gateway."""
    rows = server.query("SELECT id, seq, lane, body FROM ingested_events WHERE gateway_id = ? ORDER BY id", GATEWAY_ID)
    readings = server.query('SELECT metric, "values" FROM readings WHERE gateway_id = ? ORDER BY id', GATEWAY_ID)
    return Stored(
        [(r[0], r[1], r[2], json.loads(r[3]) if r[3] else None) for r in rows],
        [(m, json.loads(v)) for m, v in readings],
    )
