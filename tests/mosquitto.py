"""Real Mosquitto processes on free loopback ports, shared by the test fixtures and the benchmarks (never shipped)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from anxin.mqtt import BrokerAddress
from anxin.ports import free_port, wait_for_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class BrokerStartError(RuntimeError):
    """Mosquitto is missing or did not start listening."""


class Mosquitto:
    """A real Mosquitto process on a free loopback port."""

    def __init__(self, workdir: Path, extra_conf: str = "", port: int | None = None) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        self.conf = workdir / f"mosquitto-{self.port}.conf"
        self.extra_conf = extra_conf
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> BrokerAddress:
        """Where to connect."""
        return BrokerAddress("127.0.0.1", self.port)

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    def start(self) -> Mosquitto:
        """Start and wait until it accepts connections; raises BrokerStartError."""
        if not Path(MOSQUITTO).exists():
            raise BrokerStartError("mosquitto is not installed: run scripts/test.sh, or apt-get install mosquitto")
        self.workdir.mkdir(parents=True, exist_ok=True)
        # max_queued_messages: a subscriber that falls behind must not lose QoS 1 messages in a benchmark.
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            f"max_queued_messages 100000\nset_tcp_nodelay true\n{self.extra_conf}\n"
        )
        with open(self.workdir / f"mosquitto-{self.port}.log", "ab") as log:
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT)
        if not wait_for_port(self.port, timeout=10):
            self.stop()
            raise BrokerStartError(f"mosquitto did not start on port {self.port}")
        return self

    def stop(self) -> None:
        """Terminate the broker."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def restart(self, down_for: float = 0.0) -> None:
        """Stop, wait, start again on the same port."""
        self.stop()
        time.sleep(down_for)
        self.start()
