"""The NATS cluster's generated files: valid for nats-server, no secret in clear, every gateway confined."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from server.nats_config import (
    ClusterLayout,
    NodeAddress,
    Users,
    accounts_config,
    gateway_permissions,
    partition_mappings,
    partition_of,
)
from server.nats_setup import NatsSetupError, add_gateway, create, remove_gateway

NATS = shutil.which("nats-server") or "/usr/sbin/nats-server"


def test_partition_is_the_one_nats_server_computes() -> None:
    # Read from a running nats-server 2.9.10's log: gwA's uplink mapped to anxin.up.6, gwB's to anxin.up.3.
    assert partition_of("gwA", 16) == 6
    assert partition_of("gwB", 16) == 3
    assert {partition_of(f"gw-{i}", 16) for i in range(200)} == set(range(16))


def test_a_gateway_may_publish_only_its_own_partition_and_read_only_its_own_topics() -> None:
    perms = gateway_permissions("gwA", 16)
    assert perms["publish"]["allow"] == ["anxin.up.6.gwA.up", "anxin.up.6.gwA.state", "anxin.alarm.6.gwA.alarm"]
    assert "anxin.v1.gw.gwB.ack" not in perms["subscribe"]["allow"]
    assert not any(s.startswith("$JS") or s in (">", "*") for s in perms["subscribe"]["allow"])


def test_alarms_are_mapped_to_the_same_partition_of_their_own_stream() -> None:
    mappings = partition_mappings(16)
    assert mappings["anxin.v1.gw.*.alarm"] == "anxin.alarm.{{partition(16,1)}}.{{wildcard(1)}}.alarm"
    assert mappings["anxin.v1.gw.*.up"] == "anxin.up.{{partition(16,1)}}.{{wildcard(1)}}.up"


def test_the_accounts_file_refuses_a_password_in_clear() -> None:
    with pytest.raises(ValueError, match="bcrypt"):
        accounts_config(Users("$2a$04$x", "$2a$04$y", {"gw1": "hunter2"}))


def test_the_command_makes_secrets_once_and_keeps_them(tmp_path: Path) -> None:
    layout = ClusterLayout(tuple(NodeAddress(f"n{i}") for i in range(3)), store_root=str(tmp_path / "js"))
    out = tmp_path / "nats"
    nats_password, mqtt_password = create(out, layout)
    texts = "".join(p.read_text() for p in out.glob("*.conf")) + (out / "cluster.json").read_text()
    assert nats_password not in texts and mqtt_password not in texts
    assert nats_password in (out / "server.env").read_text()
    assert all(oct(p.stat().st_mode)[-3:] == "600" for p in out.iterdir())
    with pytest.raises(NatsSetupError, match="already exists"):
        create(out, layout)
    add_gateway(out, "gw-r001", "its-central-broker-password")
    accounts = (out / "accounts.conf").read_text()
    assert '"gw-r001"' in accounts and "its-central-broker-password" not in accounts
    remove_gateway(out, "gw-r001")
    assert '"gw-r001"' not in (out / "accounts.conf").read_text()
    node1 = (out / "node-1.conf").read_text()
    assert "@n1:6222" in node1 and "@n2:6222" in node1 and "@n0:6222" not in node1


@pytest.mark.skipif(not Path(NATS).exists(), reason="nats-server is not installed (scripts/test.sh installs it)")
@pytest.mark.parametrize("nodes", [1, 3])
def test_nats_server_accepts_every_node_file(tmp_path: Path, nodes: int) -> None:
    layout = ClusterLayout(tuple(NodeAddress(f"n{i}") for i in range(nodes)), store_root=str(tmp_path / "js"))
    create(tmp_path / "nats", layout)
    add_gateway(tmp_path / "nats", "gw-r001", "secret")
    for conf in sorted((tmp_path / "nats").glob("node-*.conf")):
        checked = subprocess.run([NATS, "-c", str(conf), "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_server_env_is_read_by_sh_and_gives_the_servers_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.settings import ServerSettings

    layout = ClusterLayout(tuple(NodeAddress(f"n{i}") for i in range(3)))
    create(tmp_path / "nats", layout)
    shell = subprocess.run(
        ["sh", "-ec", f"set -a; . {tmp_path / 'nats' / 'server.env'}; set +a; env"],
        capture_output=True,
        text=True,
        env={},
        timeout=30,
    )
    assert shell.returncode == 0, shell.stderr
    for line in shell.stdout.splitlines():
        name, _, value = line.partition("=")
        if name.startswith("ANXIN_"):
            monkeypatch.setenv(name, value)
    settings = ServerSettings()
    assert settings.uplink == "nats" and settings.nats_urls == [f"nats://n{i}:4222" for i in range(3)]
    assert settings.mqtt.host == "n0" and settings.mqtt.fallbacks == ("n1:1883", "n2:1883")
    assert settings.nats_password and settings.mqtt.password and settings.nats_replicas == 3
