"""The parts of `anxin-sim demo --scenario cluster` (the story is firmware_sim/cluster_story.py).

Three real nats-server nodes made by `anxin-server nats-config`'s own generator (firmware_sim/nats_cluster.py),
the web/API process (role all, uplink from JetStream) plus one ingest-only process on the demo's SQLite file,
one home whose gateway has node 1 as its central broker and nodes 2 and 3 as fallbacks, and the caregiver's
phone. The story: SOS → caregiver told; node 1 and the ingest process die (kill -9) → the gateway moves to
a live node, the web process takes every partition; a second SOS → told once.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx

from anxin.mqtt import BrokerAddress
from anxin.ports import free_port
from firmware_sim.installation import SimHome, build_home, demo_provision, gateway_settings
from firmware_sim.nats_cluster import ClusterStartError, NatsCluster
from firmware_sim.receiver import NotificationReceiver, Received
from server.alarms import resolve
from server.broker import EmbeddedBroker
from server.db.models import Alarm
from server.db.session import create_schema, make_engine, session_factory
from server.gateway_credentials import issue_missing
from server.nats_config import SERVER_MQTT_USER, node_name
from server.provision import apply
from server.runtime import ServerRuntime, build_runtime
from server.services import utc_now
from server.settings import ServerSettings

Say = Callable[[str], None]
READY_LINE = "Anxin server running"


def wait(check: Callable[[], bool], timeout: float, step: float = 0.2) -> bool:
    """Poll until check() is true or timeout passes."""
    done = threading.Event()
    for _ in range(int(timeout / step) + 1):
        if check():
            return True
        done.wait(step)
    return False


class ClusterDemo:
    """Owns every part of the cluster demo so it can stop them all."""

    def __init__(self, data_dir: Path, say: Say, notify: str | None, web_port: int) -> None:
        self.data_dir, self.say, self.notify, self.web_port = data_dir, say, notify, web_port
        self.cluster = NatsCluster(data_dir)
        self.db_url = f"sqlite:///{data_dir}/anxin.db"
        self.secret_key = secrets.token_urlsafe(32)  # every process of one installation shares it
        self.server: ServerRuntime | None = None
        self.ingest: subprocess.Popen[bytes] | None = None
        self.home: SimHome | None = None
        self.local: EmbeddedBroker | None = None
        self.receiver: NotificationReceiver | None = None
        self.told: list[Received] = []

    # --- start -------------------------------------------------------------------------------------
    def start(self) -> None:
        """Provision, start the cluster, the two server processes and the home; print where to look."""
        notify = self.notify or self._start_receiver()
        engine = make_engine(self.db_url)
        create_schema(engine)
        with session_factory(engine)() as s, s.begin():
            apply(s, demo_provision(1, [notify]))
            passwords = issue_missing(s)
        engine.dispose()
        self.cluster.start(passwords)  # writes node-N.conf with `nats-config`'s generator, one login per gateway
        nodes = self.cluster.layout.nodes
        self.say(
            f"[cluster] 3 nats-server nodes up (files by anxin-server nats-config in {self.cluster.dir}): "
            + ", ".join(f"{node_name(i)} MQTT 127.0.0.1:{n.mqtt_port}" for i, n in enumerate(nodes))
        )
        self.server = build_runtime(self._settings())
        self.server.start()
        self.say(f"[server web] role all (web/API + ingest, uplink=nats): {self.server.settings.base_url}/console")
        self._start_ingest()
        self._start_home(passwords)
        owners = self.partitions_split(2, timeout=90)
        self.say(f"[cluster] partitions shared between the two ingest processes: {owners}")

    def _settings(self) -> ServerSettings:
        nodes = self.cluster.layout.nodes
        return ServerSettings(
            port=self.web_port,
            database_url=self.db_url,
            embedded_broker=False,
            mqtt=BrokerAddress(
                "127.0.0.1",
                nodes[0].mqtt_port,
                SERVER_MQTT_USER,
                self.cluster.server_mqtt_password,
                fallbacks=tuple(f"127.0.0.1:{n.mqtt_port}" for n in nodes[1:]),
            ),
            uplink="nats",
            nats_urls=self.cluster.nats_urls(),
            nats_user=self.cluster.server_env()["ANXIN_NATS_USER"],
            nats_password=self.cluster.server_nats_password,
            nats_replicas=3,
            secret_key=self.secret_key,
        )

    def _start_ingest(self) -> None:
        """The second process: `anxin-server run --role ingest` on the same cluster and database."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANXIN_")}
        env |= {**self.cluster.server_env(), "ANXIN_SECRET_KEY": self.secret_key, "PYTHONUNBUFFERED": "1"}
        argv = [sys.executable, "-m", "server", "--database-url", self.db_url, "run", "--role", "ingest"]
        argv += ["--no-embedded-broker", "--mqtt-port", str(self.cluster.layout.nodes[0].mqtt_port)]
        log_path = self.data_dir / "ingest-b.log"
        with open(log_path, "ab") as log:
            self.ingest = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        if not wait(lambda: READY_LINE in log_path.read_text(errors="replace"), 60):
            raise ClusterStartError(f"the ingest process did not start; see {log_path}")
        self.say(f"[server ingest-b] role ingest (uplink=nats), pid {self.ingest.pid}, log {log_path}")

    def _start_home(self, passwords: dict[str, str]) -> None:
        gateway_id = "gw-r001"
        self.local = EmbeddedBroker("127.0.0.1", free_port(), None)
        self.local.start()
        nodes = self.cluster.layout.nodes
        settings = gateway_settings(
            gateway_id,
            "R001",
            BrokerAddress("127.0.0.1", self.local.port),
            BrokerAddress("127.0.0.1", nodes[0].mqtt_port),
            self.data_dir,
            passwords[gateway_id],
        )
        central = replace(settings.central_broker, fallbacks=tuple(f"127.0.0.1:{n.mqtt_port}" for n in nodes[1:]))
        self.home = build_home(settings.model_copy(update={"central_broker": central}))
        self.home.start()
        self.say(
            f"[home {gateway_id}] gateway on {node_name(0)} (127.0.0.1:{nodes[0].mqtt_port}), fallbacks "
            + ", ".join(central.fallbacks)
        )

    def _start_receiver(self) -> str:
        self.receiver = NotificationReceiver(on_receive=self._phone)
        self.receiver.start()
        return self.receiver.url("/caregiver/{code}")

    def _phone(self, item: Received) -> None:
        self.told.append(item)
        self.say(f"[caregiver phone {item.path}] {item.doc.get('title', '')}")
        if item.token:
            threading.Timer(2.0, self._tap_ack, args=(item.token,)).start()

    def _tap_ack(self, token: str) -> None:
        url = f"http://127.0.0.1:{self.web_port}/api/v1/links/{token}/ack"
        try:
            r = httpx.post(url, timeout=5)
            self.say(f"[caregiver phone] tapped 'acknowledged — on my way': HTTP {r.status_code}")
        except httpx.HTTPError as exc:
            self.say(f"[caregiver phone] could not acknowledge: {exc}")

    # --- what the story reads --------------------------------------------------------------------
    def owned_by_web(self) -> int | None:
        """`anxin_stream_partitions_owned` on the web process's /metrics."""
        try:
            text = httpx.get(f"http://127.0.0.1:{self.web_port}/metrics", timeout=5).text
        except httpx.HTTPError:
            return None
        found = re.search(r"^anxin_stream_partitions_owned (\S+)", text, re.M)
        return int(float(found.group(1))) if found else None

    def partitions_split(self, processes: int, timeout: float) -> str:
        """Wait until the web process owns its share (16 / processes); describe it as /metrics shows it."""
        share = self.cluster.partitions // processes
        wait(lambda: self.owned_by_web() == share, timeout, 0.5)
        web = self.owned_by_web()
        rest = self.cluster.partitions - (web or 0)
        return f"/metrics anxin_stream_partitions_owned: web {web}, ingest-b {rest if processes > 1 else 0}"

    def alarms(self) -> int:
        """How many alarms the database holds."""
        assert self.server is not None
        with self.server.services.sessions() as s:
            return s.query(Alarm).count()

    # --- the story -----------------------------------------------------------------------------
    def press(self, n: int) -> bool:
        """Press the SOS button; true once the caregiver has been told (n notifications in all)."""
        assert self.home is not None
        self.say(f"[home {self.home.gateway_id}] the resident presses the SOS button (press {n})")
        self.home.button.press()
        if self.receiver is None:  # an outside --notify URL: the alarm raised is what we can see
            return wait(lambda: self.alarms() >= n, 60)
        return wait(lambda: len(self.told) >= n, 60)

    def staff_close(self) -> None:
        """The duty staff close the active alarm (it was handled), so the next press is a new alarm."""
        assert self.server is not None
        with self.server.services.sessions() as s, s.begin():
            for alarm in s.query(Alarm).filter(Alarm.status.notin_(("resolved", "cancelled"))):
                resolve(s, alarm.id, "duty", "helped_at_home", "cluster demo", utc_now())
                self.say(f"[duty console] duty closes alarm #{alarm.id}: helped at home")

    def node_of(self, endpoint: str) -> str:
        """`nats-2 (127.0.0.1:port)` for an MQTT endpoint of the cluster."""
        for i, n in enumerate(self.cluster.layout.nodes):
            if endpoint.endswith(f":{n.mqtt_port}"):
                return f"{node_name(i)} ({endpoint})"
        return endpoint

    def fail(self) -> None:
        """Node 1 and the ingest-only process die at once (kill -9)."""
        assert self.home is not None and self.ingest is not None
        link = self.home.gateway.central
        before = link.stats.node
        self.cluster.kill9(0)
        self.say(f"[cluster] {node_name(0)} killed (kill -9)")
        self.ingest.kill()
        self.ingest.wait(10)
        self.say(f"[server ingest-b] killed (kill -9, pid {self.ingest.pid})")
        if wait(lambda: link.stats.node != before and link.connected.is_set(), 60):
            self.say(
                f"[home {self.home.gateway_id}] gateway moved from {self.node_of(before)} to "
                f"{self.node_of(link.stats.node)} ({link.stats.failovers} failover(s))"
            )
        else:
            self.say(f"[home {self.home.gateway_id}] 网关未能切换 / the gateway did not move off {before}")
        self.say(f"[cluster] partitions moved: {self.partitions_split(1, timeout=60)}")

    def stop(self) -> None:
        """Stop everything, the home first, the cluster last."""
        if self.home:
            self.home.stop()
        if self.local:
            self.local.stop()
        if self.ingest and self.ingest.poll() is None:
            self.ingest.terminate()
            self.ingest.wait(15)
        if self.server:
            self.server.stop()
        if self.receiver:
            self.receiver.stop()
        self.cluster.stop()
