"""The public command-line contract: console scripts, provisioning import, clear port errors."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from server.db.models import Caregiver, Device, Pairing, Resident
from server.db.session import make_engine, session_factory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


@pytest.mark.parametrize("package", ["gateway", "server", "firmware_sim"])
def test_every_package_answers_help(package):
    out = subprocess.run([sys.executable, "-m", package, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "usage:" in out.stdout


def test_import_example_provisioning_file_twice_is_idempotent(tmp_path):
    db = f"sqlite:///{tmp_path}/p.db"
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-m", "server", "--database-url", db, "import", str(ROOT / "examples" / "provision.yaml")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert "1 residents" in out.stdout
    with session_factory(make_engine(db))() as s:
        resident = s.scalars(select(Resident)).one()
        assert resident.name == "王秀英" and "高龄" in resident.care_categories
        order = [p.caregiver.code for p in s.scalars(select(Pairing).order_by(Pairing.rank))]
        assert order == ["C001", "C002"]
        assert s.scalars(select(Caregiver).where(Caregiver.code == "C001")).one().notify_urls
        assert s.scalars(select(Device)).one().model == "TS0215A_sos"


def test_import_rejects_a_bad_file_with_a_message(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("residents:\n  - code: R1\n    name: X\n    caregivers: [NOPE]\n")
    out = subprocess.run(
        [sys.executable, "-m", "server", "--database-url", f"sqlite:///{tmp_path}/b.db", "import", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "unknown caregiver 'NOPE'" in out.stderr
    assert "Traceback" not in out.stderr


def test_server_run_says_clearly_when_its_port_is_taken(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "server",
                "--database-url",
                f"sqlite:///{tmp_path}/s.db",
                "run",
                "--port",
                str(port),
                "--no-embedded-broker",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert out.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in out.stderr
    assert "Traceback" not in out.stderr


def test_docker_compose_file_is_consistent():
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = doc["services"]
    assert {"mosquitto", "postgres", "server", "gateway", "simulator"} <= set(services)
    for name, svc in services.items():
        for dep in svc.get("depends_on", []):
            assert dep in services, f"{name} depends on unknown service {dep}"
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if src.startswith("./"):
                assert (ROOT / src).exists(), f"{name} mounts missing {src}"
    assert (ROOT / "Dockerfile").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["import", str(ROOT / "examples" / "provision.yaml")],
        ["create-user", "duty2", "--password-stdin"],
        ["run", "--port", "0", "--no-embedded-broker"],
    ],
)
def test_server_database_in_a_missing_directory_is_one_clear_line(tmp_path, command):
    db = tmp_path / "no" / "such" / "dir" / "anxin.db"
    out = subprocess.run(
        [sys.executable, "-m", "server", "--database-url", f"sqlite:///{db}", *command],
        input="a-long-password\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.strip() == (
        f"anxin-server: cannot open the database sqlite:///{db}: the directory "
        f"{db.parent} does not exist (create it first)"
    )


def test_gateway_data_dir_that_cannot_be_created_is_one_clear_line(tmp_path):
    (tmp_path / "a-file").write_text("")
    cfg = tmp_path / "gw.yaml"
    cfg.write_text(yaml.safe_dump({"gateway_id": "gw-x", "data_dir": str(tmp_path / "a-file" / "data")}))
    out = subprocess.run(
        [sys.executable, "-m", "gateway", "run", "--config", str(cfg)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2 and "Traceback" not in out.stdout + out.stderr
    assert f"cannot create the data directory {tmp_path / 'a-file' / 'data'}: Not a directory" in out.stdout


@pytest.mark.parametrize("command", ["serial-bpm", "serial-rflink"])
def test_sim_serial_device_path_in_a_missing_directory_is_one_clear_line(tmp_path, command):
    out = subprocess.run(
        [sys.executable, "-m", "firmware_sim", command, str(tmp_path / "no" / "tty")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert (
        out.stderr.strip() == f"anxin-sim: cannot create the device path {tmp_path / 'no' / 'tty'}: "
        "No such file or directory"
    )


def test_a_missing_tls_file_is_one_clear_line_for_gateway_and_server(tmp_path):
    import os

    ca = tmp_path / "no" / "ca.pem"
    cfg = tmp_path / "gw.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {"gateway_id": "gw-x", "data_dir": str(tmp_path / "gw"), "central_broker": {"port": 1, "tls_ca": str(ca)}}
        )
    )
    gw = subprocess.run(
        [sys.executable, "-m", "gateway", "run", "--config", str(cfg)], capture_output=True, text=True, timeout=60
    )
    assert gw.returncode == 2 and "Traceback" not in gw.stdout + gw.stderr
    assert f"cannot load the TLS files for 127.0.0.1:1 ({ca}): No such file or directory" in gw.stdout
    server = subprocess.run(
        [
            sys.executable,
            "-m",
            "server",
            "--database-url",
            f"sqlite:///{tmp_path}/s.db",
            "run",
            "--port",
            "0",
            "--no-embedded-broker",
            "--mqtt-port",
            "1",
        ],
        env={**os.environ, "ANXIN_MQTT_TLS_CA": str(ca)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert server.returncode == 2 and "Traceback" not in server.stderr, server.stderr
    assert server.stderr.strip().endswith(
        f"cannot load the TLS files for 127.0.0.1:1 ({ca}): No such file or directory"
    )
