"""The city set-up, every part real: three nats-server nodes, two ingest processes on PostgreSQL (uplink from
JetStream, their desks notifying caregivers), and homes (home Mosquitto, gateway with its outbox, devices)
whose gateways use node 1 with nodes 2 and 3 as fallbacks. Shared by tests/faults/test_cluster_failover.py
and `python -m bench cluster` (never shipped)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import psycopg

from anxin.mqtt import BrokerAddress
from bench.stack import ServerProcess
from firmware_sim.installation import demo_provision
from firmware_sim.nats_cluster import NatsCluster
from firmware_sim.receiver import NotificationReceiver
from server.db.session import create_schema, make_engine, session_factory
from server.nats_config import SERVER_NATS_USER
from server.provision import PairingIn, apply
from tests.faults.procs import Devices, GatewayProc, Proc, Stored, devices
from tests.integration.harness import wait_until

READY_LINE = "Anxin server running"
# Nobody acknowledges in these runs: the caregiver's wait is the longest allowed, so that the repeat
# round of escalation (after ack_timeout_s) does not count as a second notification of one alarm.
CAREGIVER_ACK_TIMEOUT_S = 3600
SECRET_KEY = "cluster-test-shared-secret-key"  # every process of one installation shares it


class IngestProc(Proc):
    """`anxin-server run --role ingest` with uplink=nats on the shared PostgreSQL database."""

    def __init__(self, workdir: Path, name: str, cluster: NatsCluster, database_url: str) -> None:
        nodes = cluster.layout.nodes
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ANXIN_")},
            **cluster.server_env(),
            "PYTHONUNBUFFERED": "1",
            "ANXIN_SECRET_KEY": SECRET_KEY,
        }
        argv = [sys.executable, "-m", "server", "--database-url", database_url, "run", "--role", "ingest"]
        argv += ["--no-embedded-broker", "--mqtt-port", str(nodes[0].mqtt_port)]
        super().__init__(name, argv, workdir)

    def start(self) -> None:
        """Start (again) with the cluster's settings; `running()` tells when it is up."""
        self.starts += 1
        with open(self.workdir / f"{self.name}.log", "ab") as log:
            self.proc = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.workdir
            )

    def running(self) -> bool:
        """It printed that it runs as many times as it was started, and has not died."""
        text = (self.workdir / f"{self.name}.log").read_text(errors="replace")
        return self.proc is not None and self.proc.poll() is None and text.count(READY_LINE) >= self.starts


@dataclass
class Home:
    """One home: its broker, its gateway process, its devices; the caregiver's path on the receiver."""

    gateway_id: str
    resident: str
    gateway: GatewayProc
    devices: Devices

    @property
    def caregiver_path(self) -> str:
        """Where the caregiver's notifications arrive on the receiver."""
        return f"/caregiver/{self.resident}"

    def notified(self, receiver: NotificationReceiver) -> int:
        """Notifications that reached this home's caregiver."""
        return sum(1 for r in receiver.received if r.path == self.caregiver_path)


def stored(database_url: str, gateway_id: str) -> Stored:
    """What the database holds from one gateway: event records in commit order, readings."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT id, seq, lane, body FROM ingested_events WHERE gateway_id = %s ORDER BY id", (gateway_id,)
        ).fetchall()
        readings = conn.execute(
            'SELECT metric, "values" FROM readings WHERE gateway_id = %s ORDER BY id', (gateway_id,)
        ).fetchall()
    return Stored([(r[0], r[1], r[2], _doc(r[3])) for r in rows], [(m, _doc(v) or {}) for m, v in readings])


def settled(database_url: str, home: Home) -> bool:
    """Every alarm and reading the home's devices published is stored (or reported thinned)."""
    st = stored(database_url, home.gateway_id)
    d = home.devices
    return len(st.lane("alarm")) >= d.presses and len(st.humidity) + st.thinned() >= len(set(d.readings))


def probe(database_url: str, home: Home) -> bool:
    """A probe reading from the home is stored (probes have negative numbers and are not counted)."""
    for n in range(-1, -61, -1):
        home.devices.link.publish("zigbee2mqtt/climate-1", f'{{"humidity": {n}}}'.encode(), 1)
        if wait_until(lambda: any(k < 0 for k in stored(database_url, home.gateway_id).humidity), 2.0):
            return True
    return False


@dataclass
class ClusterStack:
    """Everything of the set-up, started; `stop()` ends the processes (the fixtures end the brokers)."""

    cluster: NatsCluster
    database_url: str
    ingest: list[IngestProc]
    homes: list[Home]
    api: ServerProcess  # the staff's web API (role api): how alarms get closed between presses

    def close_alarms(self) -> int:
        """Staff resolve every active alarm (so that the next press raises a new one); how many."""
        active = self.api.api("GET", "/alarms", params={"status": "active", "limit": 1000})
        for alarm in active:
            self.api.api("POST", f"/alarms/{alarm['id']}/resolve", json={"outcome": "test_passed"})
        return len(active)

    def alarms_raised(self, gateway_id: str) -> int:
        """Alarms (not events) the server raised for one gateway."""
        with psycopg.connect(self.database_url) as conn:
            row = conn.execute("SELECT COUNT(*) FROM alarms WHERE gateway_id = %s", (gateway_id,)).fetchone()
        return int(row[0]) if row else 0

    def stored(self, gateway_id: str) -> Stored:
        """What the database holds from one gateway."""
        return stored(self.database_url, gateway_id)

    def settled(self, home: Home) -> bool:
        """Everything the home published is stored (or reported thinned)."""
        return settled(self.database_url, home)

    def lease_owners(self) -> set[str]:
        """Which processes hold partition leases (the `anxin_ingest` bucket's owner.p<P> keys)."""
        cluster = self.cluster

        async def read() -> set[str]:
            nc = await nats.connect(cluster.nats_urls(), user=SERVER_NATS_USER, password=cluster.server_nats_password)
            try:
                kv = await nc.jetstream().key_value("anxin_ingest")
                return {
                    ((await kv.get(key)).value or b"").decode() for key in await kv.keys() if key.startswith("owner.p")
                }
            finally:
                await nc.close()

        try:
            return asyncio.run(read())
        except Exception:  # no bucket yet, or the cluster electing a leader: nobody known to own anything
            return set()

    def ready(self, timeout: float = 90.0) -> bool:
        """Both ingest processes run and share the partitions, and every home's path carries a probe reading."""
        if not wait_until(lambda: all(p.running() for p in self.ingest), timeout):
            return False
        if not wait_until(lambda: len(self.lease_owners()) == len(self.ingest), timeout, 0.5):
            return False
        return all(self.probe(home) for home in self.homes)

    def probe(self, home: Home) -> bool:
        """A probe reading from the home is stored."""
        return probe(self.database_url, home)

    def describe(self, receiver: NotificationReceiver) -> str:
        """Each home's counts, for a failure message."""
        lines = []
        for h in self.homes:
            st = self.stored(h.gateway_id)
            lines.append(
                f"{h.gateway_id}: presses {h.devices.presses}, alarm events stored {len(st.lane('alarm'))}, alarms "
                f"raised {self.alarms_raised(h.gateway_id)}, notified "
                f"{h.notified(receiver)}; readings sent {len(set(h.devices.readings))}, stored {len(st.humidity)}, "
                f"thinned {st.thinned()}"
            )
        return "\n".join(lines)

    def stop(self) -> None:
        """Stop the homes and the ingest processes."""
        for home in self.homes:
            home.devices.link.stop()
            home.gateway.stop()
        for proc in self.ingest:
            proc.stop()
        self.api.stop()


def _doc(value: Any) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    return dict(json.loads(value))


def gateway_password(gateway_id: str) -> str:
    """Test-only: each gateway's central-broker password (the cluster has only its bcrypt hash)."""
    return f"central-password-of-{gateway_id}"


def build(
    workdir: Path,
    cluster_factory: Callable[..., NatsCluster],
    mosquitto_factory: Callable[..., Any],
    database_url: str,
    notify_url: str,
    homes: int = 3,
) -> ClusterStack:
    """Provision `homes` residents (caregivers notified at notify_url with {code}), start everything."""
    workdir.mkdir(parents=True, exist_ok=True)
    provision = demo_provision(homes, [notify_url])
    provision.residents = [
        r.model_copy(
            update={"caregivers": [PairingIn(code=c, ack_timeout_s=CAREGIVER_ACK_TIMEOUT_S) for c in r.caregivers]}
        )
        for r in provision.residents
    ]
    ids = [(g.id, g.resident or "") for g in provision.gateways]
    cluster = cluster_factory(3, {gw: gateway_password(gw) for gw, _r in ids})
    engine = make_engine(database_url)
    create_schema(engine)
    with session_factory(engine)() as s, s.begin():
        apply(s, provision)
    engine.dispose()
    ingest = [IngestProc(workdir, f"ingest-{n}", cluster, database_url) for n in "ab"]
    for proc in ingest:
        proc.start()
    built: list[Home] = []
    fallbacks = [f"127.0.0.1:{n.mqtt_port}" for n in cluster.layout.nodes[1:]]
    for gw, resident in ids:
        home_dir = workdir / gw
        home_dir.mkdir()
        broker = mosquitto_factory()
        central: BrokerAddress = cluster.mqtt_address(0, gw, gateway_password(gw))
        proc = GatewayProc(
            home_dir,
            broker.address,
            central,
            gateway_id=gw,
            resident=resident,
            central_broker={"username": gw, "password": central.password, "fallbacks": fallbacks},
        )
        proc.outbox = home_dir / "gw" / f"outbox-{gw}.sqlite"  # GatewayProc assumes the fault tests' one id
        built.append(Home(gw, resident, proc, devices(broker.address)))
    for home in built:
        home.gateway.start()
    env = {**cluster.server_env(), "ANXIN_SECRET_KEY": SECRET_KEY}
    api = ServerProcess(workdir, cluster.server_mqtt(0), database_url, ("--role", "api"), env).start()
    return ClusterStack(cluster, database_url, ingest, built, api)
