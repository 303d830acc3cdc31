"""Credentials are made at provisioning, work on Mosquitto with the generated files, and can be revoked."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from anxin.mqtt import BrokerAddress
from anxin.ports import free_port, wait_for_port
from gateway.config import GatewaySettings
from server.db.models import Gateway
from server.db.session import make_engine, session_factory
from tests.mosquitto import MOSQUITTO

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def cli(db: str, *args: str) -> str:
    env = {**os.environ, "ANXIN_MQTT_PASSWORD": "server-pw-for-tests"}
    out = subprocess.run(
        [sys.executable, "-m", "server", "--database-url", db, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def start_mosquitto(directory: Path, port: int) -> subprocess.Popen[bytes]:
    conf = directory / "run.conf"
    conf.write_text("user root\npersistence false\n" + (directory / "anxin.conf").read_text())
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for_port(port, timeout=10)
    return proc


def logs_in(attacker, port: int, user: str, password: str) -> bool:  # type: ignore[no-untyped-def]
    link = attacker(BrokerAddress("127.0.0.1", port, user, password), client_id=f"anxin-gw-{user}", wait=False)
    ok = link.connected.wait(3)
    link.stop()
    return ok


def test_import_and_gateway_add_make_credentials_that_mosquitto_takes_and_revoke_ends(tmp_path, attacker):
    db = f"sqlite:///{tmp_path}/p.db"
    out = cli(db, "import", str(ROOT / "examples" / "provision.yaml"))
    assert "gw-r001:" in out, "import shows the new gateway's password once"
    conf = yaml.safe_load(cli(db, "gateway", "add", "gw-r009", "--resident", "R001", "--broker-port", "1"))
    settings = GatewaySettings(**conf)  # the printed YAML is a gateway configuration as it is
    assert settings.central_broker.username == "gw-r009" and settings.central_broker.password
    assert settings.roster and settings.devices == []
    with session_factory(make_engine(db))() as s:
        stored = s.get(Gateway, "gw-r009").mqtt_password_hash
    assert stored.startswith("$7$") and settings.central_broker.password not in stored, "stored hashed"

    directory, gw_port, server_port = tmp_path / "mosquitto", free_port(), free_port()
    cli(
        db,
        "broker-config",
        "--mosquitto",
        str(directory),
        "--gateway-port",
        str(gw_port),
        "--server-port",
        str(server_port),
    )
    proc = start_mosquitto(directory, gw_port)
    try:
        assert logs_in(attacker, gw_port, "gw-r009", settings.central_broker.password)
        assert logs_in(attacker, server_port, "anxin-server", "server-pw-for-tests")
        assert not logs_in(attacker, gw_port, "gw-r009", "not-the-password")
    finally:
        proc.terminate()
        proc.wait(10)

    cli(db, "gateway", "revoke", "gw-r009")
    cli(
        db,
        "broker-config",
        "--mosquitto",
        str(directory),
        "--gateway-port",
        str(gw_port),
        "--server-port",
        str(server_port),
    )
    time.sleep(0.5)
    proc = start_mosquitto(directory, gw_port)
    try:
        assert not logs_in(attacker, gw_port, "gw-r009", settings.central_broker.password), "revoked"
    finally:
        proc.terminate()
        proc.wait(10)
