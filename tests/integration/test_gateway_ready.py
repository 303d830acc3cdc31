"""`anxin-gateway run` says when it is ready: one log line and READY=1 to systemd, only once it is
subscribed to the home's broker, so a device message published right after is never lost."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time

import paho.mqtt.publish as mqtt_publish
import pytest
import yaml

from anxin.ports import free_port
from tests.integration.harness import wait_until
from tests.mosquitto import Mosquitto

pytestmark = pytest.mark.integration


def test_ready_line_and_sd_notify_only_once_subscribed_to_the_home_broker(tmp_path):
    notify_path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # what systemd listens on for Type=notify
    sock.bind(notify_path)
    home_port = free_port()
    cfg = tmp_path / "gw.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "gateway_id": "gw-ready",
                "data_dir": str(tmp_path / "data"),
                "local_broker": {"port": home_port},
                "central_broker": {"port": free_port()},
                "devices": [
                    {"name": "sos-button", "family": "zigbee2mqtt", "model": "TS0215A_sos", "role": "sos_button"}
                ],
            }
        )
    )
    with open(tmp_path / "gateway.log", "wb") as log:  # the child keeps its own copy of the file
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "run", "--config", str(cfg)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NOTIFY_SOCKET": notify_path},
        )
    home = Mosquitto(tmp_path, port=home_port)
    try:
        sock.settimeout(0.5)
        early: list[bytes] = []
        until = time.monotonic() + 6  # the home broker is not running yet: no READY may come
        while time.monotonic() < until:
            with contextlib.suppress(TimeoutError):
                early.append(sock.recv(200))
        assert not any(b"READY=1" in m for m in early), early
        assert "ready: subscribed" not in (tmp_path / "gateway.log").read_text()
        home.start()
        sock.settimeout(60)
        while b"READY=1" not in (message := sock.recv(200)):
            pass
        assert b"STATUS=ready" in message
        # The moment READY arrives, a button press is routed to the gateway.
        mqtt_publish.single(
            "zigbee2mqtt/sos-button", json.dumps({"action": "emergency"}), qos=1, hostname="127.0.0.1", port=home_port
        )
        outbox = tmp_path / "data" / "outbox-gw-ready.sqlite"

        def alarm_stored() -> bool:
            conn = sqlite3.connect(f"file:{outbox}?mode=ro", uri=True, timeout=10)
            try:
                return conn.execute("SELECT COUNT(*) FROM outbox WHERE lane_name = 'alarm'").fetchone()[0] > 0
            finally:
                conn.close()

        assert wait_until(alarm_stored, 30), (tmp_path / "gateway.log").read_text()
        time.sleep(0.5)
        lines = [ln for ln in (tmp_path / "gateway.log").read_text().splitlines() if "ready: subscribed" in ln]
        assert len(lines) == 1 and f"home's broker 127.0.0.1:{home_port}" in lines[0], lines
    finally:
        proc.terminate()
        proc.wait(20)
        home.stop()
        sock.close()
        log.close()
