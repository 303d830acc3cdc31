"""A real VictoriaMetrics process (it accepts InfluxDB's /api/v2/write) for the InfluxDB mirror tests."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx

from anxin.ports import free_port, wait_for_port

BINARY = shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics"


class VictoriaMetrics:
    """victoria-metrics on a free loopback port with its storage in a temporary directory."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL, also the InfluxDB URL to give influxdb-client."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> VictoriaMetrics:
        """Start and wait until it answers HTTP."""
        with open(self.workdir / f"victoria-{self.port}.log", "ab") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen(
                [
                    BINARY,
                    f"-httpListenAddr=127.0.0.1:{self.port}",
                    f"-storageDataPath={self.workdir / 'vm-data'}",
                    "-retentionPeriod=100y",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if not wait_for_port(self.port, timeout=20):
            raise RuntimeError(f"victoria-metrics did not start on port {self.port}")
        return self

    def stop(self) -> None:
        """Terminate the process."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def export(self, series: str) -> list[dict[str, Any]]:
        """Every stored sample of series `series` (e.g. blood_pressure_systolic) via /api/v1/export."""
        httpx.get(f"{self.url}/internal/force_flush", timeout=10)  # make just-written samples searchable
        r = httpx.get(f"{self.url}/api/v1/export", params={"match[]": series, "start": "0"}, timeout=10)
        r.raise_for_status()
        return [json.loads(line) for line in r.text.splitlines() if line.strip()]

    def samples(self, series: str) -> list[tuple[dict[str, str], float, int]]:
        """(labels, value, timestamp ms) of every sample of a series, oldest first."""
        out = []
        for doc in self.export(series):
            for v, t in zip(doc["values"], doc["timestamps"], strict=False):
                out.append((doc["metric"], float(v), int(t)))
        return sorted(out, key=lambda s: s[2])
