"""One real nats-server for bench.stream_ingest: JetStream, an MQTT listener, the partition mappings.

Unlike firmware_sim/nats_cluster.py (the generated, shipped configuration) it lets the benchmark fleet
(bench/fleet.py, which has no per-gateway passwords) in without a password as the user "fleet",
confined to gateway topics, like the benchmark Mosquitto's allow_anonymous. Never shipped.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from pathlib import Path

from anxin.mqtt import BrokerAddress
from anxin.ports import free_port, wait_for_port

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"
SERVER_NATS_USER, SERVER_MQTT_USER = "anxin-server-nats", "anxin-server"


def mappings(partitions: int) -> dict[str, str]:
    """Each gateway's uplink and presence into one partition of the stream (alarm batches: of the alarm stream)."""
    return {
        f"anxin.v1.gw.*.{kind}": f"anxin.{root}.{{{{partition({partitions},1)}}}}.{{{{wildcard(1)}}}}.{kind}"
        for root, kind in (("up", "up"), ("up", "state"), ("alarm", "alarm"))
    }


class NatsNode:
    """nats-server with JetStream and MQTT; `gateways` get their own MQTT users."""

    def __init__(self, workdir: Path, gateways: list[str], partitions: int = 16, fleet: bool = False) -> None:
        self.workdir = workdir
        self.port, self.mqtt_port = free_port(), free_port()
        self.partitions = partitions
        self.password = secrets.token_urlsafe(16)
        self.gateway_password = secrets.token_urlsafe(16)
        self.gateways = gateways
        # Benchmarks only: gateways without a password, as the "fleet" user (any gateway's topics; like
        # the benchmark Mosquitto's allow_anonymous). Never in a shipped configuration.
        self.fleet = fleet
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def mqtt_address(self, user: str = SERVER_MQTT_USER) -> BrokerAddress:
        password = self.password if user == SERVER_MQTT_USER else self.gateway_password
        return BrokerAddress("127.0.0.1", self.mqtt_port, username=user, password=password)

    def config(self) -> str:
        def user(name: str, password: str, perms: dict[str, object] | None = None) -> str:
            extra = f", permissions: {json.dumps(perms)}" if perms else ""
            return f"{{user: {json.dumps(name)}, password: {json.dumps(password)}{extra}}}"

        users = [
            user(SERVER_NATS_USER, self.password),
            user(SERVER_MQTT_USER, self.password),
            *(
                user(
                    gw,
                    self.gateway_password,
                    {
                        # Checked against the mapped subject; a QoS 1 subscription needs $MQTT.sub.>.
                        "publish": {
                            "allow": [f"anxin.up.*.{gw}.up", f"anxin.up.*.{gw}.state", f"anxin.alarm.*.{gw}.alarm"]
                        },
                        "subscribe": {
                            "allow": [
                                f"anxin.v1.gw.{gw}.ack",
                                f"anxin.v1.gw.{gw}.cmd",
                                "anxin.v1.server.state",
                                "$MQTT.sub.>",
                            ]
                        },
                    },
                )
                for gw in self.gateways
            ),
        ]
        if self.fleet:
            users.append(
                user(
                    "fleet",
                    secrets.token_urlsafe(16),
                    {
                        "publish": {"allow": ["anxin.up.>", "anxin.alarm.>"]},
                        "subscribe": {"allow": ["anxin.v1.gw.*.ack", "anxin.v1.server.state", "$MQTT.sub.>"]},
                    },
                )
            )
        maps = "\n".join(f"      {json.dumps(k)}: {json.dumps(v)}" for k, v in mappings(self.partitions).items())
        return (
            f'server_name: "n-{self.port}"\nlisten: "127.0.0.1:{self.port}"\nmax_payload: 1MB\n'
            f"jetstream {{ store_dir: {json.dumps(str(self.workdir / f'js-{self.port}'))} }}\n"
            f'mqtt {{ listen: "127.0.0.1:{self.mqtt_port}" }}\n'
            + ("no_auth_user: fleet\n" if self.fleet else "")
            + "accounts {\n  ANXIN: {\n    jetstream: enabled\n    users: [\n      "
            + ",\n      ".join(users)
            + f"\n    ]\n    mappings: {{\n{maps}\n    }}\n  }}\n}}\n"
        )

    def start(self) -> NatsNode:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / f"nats-{self.port}.conf"
        conf.write_text(self.config())
        with open(self.workdir / f"nats-{self.port}.log", "ab") as log:
            self.proc = subprocess.Popen([NATS_SERVER, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
        if not (wait_for_port(self.port, timeout=15) and wait_for_port(self.mqtt_port, timeout=15)):
            self.stop()
            raise RuntimeError((self.workdir / f"nats-{self.port}.log").read_text())
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
