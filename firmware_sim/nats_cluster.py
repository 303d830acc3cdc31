"""A real nats-server cluster (1 or 3 nodes) on free loopback ports, from `anxin-server nats-config`'s
own generator; shared by `anxin-sim demo --scenario cluster`, the test fixtures and the benchmarks."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from anxin.mqtt import BrokerAddress
from anxin.ports import free_port, wait_for_port
from server.nats_config import SERVER_MQTT_USER, SERVER_NATS_USER, ClusterLayout, NodeAddress, node_name
from server.nats_setup import add_gateway, create

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


class ClusterStartError(RuntimeError):
    """nats-server is missing, or the cluster did not elect a JetStream leader."""


class NodeDied(ClusterStartError):
    """A node that should run is not running (its log's end is in the message)."""


class NatsCluster:
    """N real nats-server processes made from the generated files; gateways added before or after start."""

    def __init__(self, workdir: Path, nodes: int = 3, partitions: int = 16) -> None:
        self.workdir = workdir
        self.partitions = partitions
        self.server_nats_password = ""
        self.server_mqtt_password = ""
        self.down: set[int] = set()  # nodes killed on purpose (kill9), until restarted
        self._new_ports(nodes)

    def _new_ports(self, nodes: int) -> None:
        """A fresh directory and free ports (again after another process took one between pick and listen)."""
        self.dir = self.workdir / f"nats-{free_port()}"
        self.layout = ClusterLayout(
            nodes=tuple(
                NodeAddress("127.0.0.1", free_port(), free_port(), free_port(), free_port()) for _ in range(nodes)
            ),
            listen_host="127.0.0.1",
            store_root=str(self.dir / "store"),
        )
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * nodes

    # --- addresses -------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """How many nodes."""
        return len(self.layout.nodes)

    def nats_urls(self) -> list[str]:
        """Every node's client URL (nats://127.0.0.1:port)."""
        return [f"nats://127.0.0.1:{n.client_port}" for n in self.layout.nodes]

    def mqtt_address(self, i: int, username: str | None = None, password: str | None = None) -> BrokerAddress:
        """Node i's MQTT listener, with a login."""
        return BrokerAddress("127.0.0.1", self.layout.nodes[i].mqtt_port, username, password)

    def server_mqtt(self, i: int = 0) -> BrokerAddress:
        """Node i's MQTT listener as the server's downlink logs in."""
        return self.mqtt_address(i, SERVER_MQTT_USER, self.server_mqtt_password)

    def server_env(self) -> dict[str, str]:
        """The server process's ANXIN_* settings for this cluster (uplink over NATS, downlink over MQTT)."""
        return {
            "ANXIN_UPLINK": "nats",
            "ANXIN_NATS_URLS": json.dumps(self.nats_urls()),
            "ANXIN_NATS_USER": SERVER_NATS_USER,
            "ANXIN_NATS_PASSWORD": self.server_nats_password,
            "ANXIN_NATS_PARTITIONS": str(self.partitions),
            "ANXIN_NATS_REPLICAS": str(self.layout.replicas),
            "ANXIN_MQTT_USERNAME": SERVER_MQTT_USER,
            "ANXIN_MQTT_PASSWORD": self.server_mqtt_password,
            "ANXIN_MQTT_FALLBACKS": json.dumps([f"127.0.0.1:{n.mqtt_port}" for n in self.layout.nodes[1:]]),
        }

    # --- life ------------------------------------------------------------------------------------
    def add_gateway(self, gateway_id: str, password: str) -> None:
        """Let a gateway log in (as an operator would: regenerate the users, reload every running node)."""
        add_gateway(self.dir, gateway_id, password)
        self.reload()

    def reload(self, timeout: float = 10.0) -> None:
        """What `nats-server --signal reload` does (SIGHUP), waiting until each running node has reloaded."""
        running = [(i, p) for i, p in enumerate(self.procs) if p and p.poll() is None]
        before = {i: self._varz(i).get("config_load_time") for i, _ in running}
        for _, proc in running:
            proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        for i, _ in running:
            while self._varz(i).get("config_load_time") == before[i]:
                if time.monotonic() > deadline:
                    raise ClusterStartError(
                        f"{node_name(i)} did not reload its configuration; see its log in {self.dir}"
                    )
                time.sleep(0.05)

    def _varz(self, i: int) -> dict[str, object]:
        return self._monitor(i, "varz")

    def _monitor(self, i: int, page: str) -> dict[str, object]:
        port = self.layout.nodes[i].monitor_port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/{page}", timeout=2) as resp:
            doc: dict[str, object] = json.loads(resp.read())
        return doc

    def start(self, gateways: dict[str, str] | None = None, timeout: float = 30.0, attempts: int = 3) -> NatsCluster:
        """Write the files (with these gateways' logins), start every node, wait for a JetStream meta leader.

        A port taken by another process between picking and listening (the machine is shared) means new
        ports and files and another attempt; any other failure raises ClusterStartError.
        """
        if not Path(NATS_SERVER).exists():
            raise ClusterStartError(
                "未安装 nats-server：请运行 sudo apt-get install nats-server / nats-server is not installed: "
                "run sudo apt-get install nats-server (scripts/demo.sh and scripts/test.sh install it)"
            )
        for attempt in range(attempts):
            self.server_nats_password, self.server_mqtt_password = create(self.dir, self.layout, self.partitions)
            for gateway_id, password in (gateways or {}).items():
                add_gateway(self.dir, gateway_id, password)
            try:
                for i in range(self.size):
                    self._spawn(i)
                self.wait_ready(timeout)
                return self
            except NodeDied as exc:
                self.stop()
                if "address already in use" not in str(exc) or attempt == attempts - 1:
                    raise
                self._new_ports(self.size)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _log_tail(self, i: int) -> str:
        return (self.dir / f"{node_name(i)}.log").read_text(errors="replace")[-1500:]

    def _spawn(self, i: int) -> None:
        self.down.discard(i)
        with open(self.dir / f"{node_name(i)}.log", "ab") as log:
            self.procs[i] = subprocess.Popen(
                [NATS_SERVER, "-c", str(self.dir / f"node-{i + 1}.conf")], stdout=log, stderr=subprocess.STDOUT
            )
        if not wait_for_port(self.layout.nodes[i].client_port, timeout=60):
            raise NodeDied(f"{node_name(i)} did not listen:\n{self._log_tail(i)}")

    def jsz(self, i: int) -> dict[str, object]:
        """Node i's JetStream report from its monitoring port."""
        return self._monitor(i, "jsz")

    def leader(self, i: int) -> str | None:
        """The JetStream meta leader node i sees, if any."""
        try:
            meta = self.jsz(i).get("meta_cluster") or {}
        except OSError:
            return None
        if self.size == 1:  # a single node has no meta group: answering is being ready
            return node_name(0)
        return meta.get("leader") if isinstance(meta, dict) else None

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until every running node agrees on a JetStream meta leader (raises ClusterStartError)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, proc in enumerate(self.procs):
                if i not in self.down and (proc is None or proc.poll() is not None):
                    raise NodeDied(f"{node_name(i)} is not running:\n{self._log_tail(i)}")
            running = [i for i, p in enumerate(self.procs) if p and p.poll() is None]
            leaders = {self.leader(i) for i in running}
            if running and len(leaders) == 1 and None not in leaders:
                return
            time.sleep(0.2)
        raise ClusterStartError(f"no JetStream meta leader after {timeout:.0f} s; logs in {self.dir}")

    def kill9(self, i: int) -> None:
        """Node i dies at once (SIGKILL), as in a power cut."""
        self.down.add(i)
        proc = self.procs[i]
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait(10)

    def restart(self, i: int, timeout: float = 60.0) -> None:
        """Start node i again from its files and store, and wait until the cluster has a leader."""
        self.kill9(i)
        self._spawn(i)
        self.wait_ready(timeout)

    def stop(self) -> None:
        """Terminate every node."""
        for proc in self.procs:
            if proc and proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            if proc and proc.poll() is None:
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
