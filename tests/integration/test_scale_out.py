"""Two server processes share ingest on Mosquitto and PostgreSQL; one is killed mid-stream.

Afterwards nothing is lost (every event stored exactly once, every caregiver notified) and nobody is
notified twice — except for a message the killed process was sending at the moment it died, which is
sent again once its lease expires (at-least-once delivery: docs/operations.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from anxin import protocol
from anxin.mqtt import MqttLink, make_client
from anxin.ports import free_port, wait_for_port
from firmware_sim.receiver import NotificationReceiver
from server.db.models import Alarm, IngestedEvent, NotificationAttempt, NotificationJob, Reading
from server.db.session import create_schema, make_engine, session_factory
from server.provision import ProvisionFile, apply
from tests.integration.harness import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.faults]

GATEWAYS = 6
EVENTS = 400  # per gateway; every 50th raises an alarm, of four types in turn (so each type is raised twice)
TYPES = ("sos", "fall", "bp_high", "inactivity")
BATCH = 20


class LoadGateway:
    """Speaks the uplink protocol like a gateway: batches at QoS 1, resends whatever is not acknowledged."""

    def __init__(self, link: MqttLink, gateway_id: str) -> None:
        self.link, self.gw = link, gateway_id
        self.acked: set[int] = set()
        self.lock = threading.Lock()

    def event(self, seq: int) -> protocol.UplinkEvent:
        if seq % 50 == 0:
            return protocol.UplinkEvent(
                seq, "alarm", time.time(), {"type": TYPES[seq // 50 % 4], "severity": "emergency", "change": "raise"}
            )
        return protocol.UplinkEvent(
            seq,
            "reading",
            time.time(),
            {"device": "bp", "metric": "blood_pressure", "values": {"systolic": 120 + seq % 30}},
        )

    def on_ack(self, ack: protocol.Ack) -> None:
        with self.lock:
            self.acked.update(ack.seqs)

    def send(self, seqs: list[int]) -> None:
        for i in range(0, len(seqs), BATCH):
            events = tuple(self.event(q) for q in seqs[i : i + BATCH])
            self.link.publish(
                protocol.up_topic(self.gw),
                protocol.encode_batch(protocol.UplinkBatch(self.gw, "boot", events, time.time())),
                1,
            )

    def missing(self, upto: int) -> list[int]:
        with self.lock:
            return [q for q in range(1, upto + 1) if q not in self.acked]


def start_server(db_url: str, broker_port: int, tmp_path: Path, name: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "ANXIN_SECRET_KEY": "shared-secret-of-the-test",
        "ANXIN_NOTIFY_LEASE_S": "3",
        "ANXIN_MQTT_CLIENT_ID": f"anxin-test-{name}",
    }
    with open(tmp_path / f"{name}.log", "wb") as log:  # the child keeps its own copy of the file
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server",
                "--database-url",
                db_url,
                "run",
                "--role",
                "all",
                "--port",
                str(port),
                "--no-embedded-broker",
                "--mqtt-port",
                str(broker_port),
                "--mqtt-shared-group",
                "anxin",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    assert wait_for_port(port, timeout=60), (tmp_path / f"{name}.log").read_text()
    return proc, port


def test_killing_one_of_two_servers_loses_nothing_and_notifies_nobody_twice(
    tmp_path: Path, central_broker, postgres_url: str, receiver: NotificationReceiver
) -> None:
    engine = make_engine(postgres_url)
    create_schema(engine)
    with session_factory(engine)() as s, s.begin():
        apply(
            s,
            ProvisionFile.model_validate(
                {
                    "caregivers": [
                        {"code": f"C{i}", "name": f"cg{i}", "notify": [receiver.url(f"/C{i}")]} for i in range(GATEWAYS)
                    ],
                    # consent to storing readings: without it the readings this test counts would not be kept
                    "residents": [
                        {"code": f"R{i}", "name": f"r{i}", "caregivers": [f"C{i}"], "consent": True}
                        for i in range(GATEWAYS)
                    ],
                    "gateways": [{"id": f"gw-{i}", "resident": f"R{i}"} for i in range(GATEWAYS)],
                }
            ),
        )
    a, _ = start_server(postgres_url, central_broker.port, tmp_path, "a")
    b, _ = start_server(postgres_url, central_broker.port, tmp_path, "b")
    gws = {f"gw-{i}": None for i in range(GATEWAYS)}
    link = MqttLink(
        make_client("load-gateways"),
        central_broker.address,
        lambda t, p: gws[protocol.gateway_from_topic(t)].on_ack(protocol.decode_ack(p)),
        [(f"{protocol.PREFIX}/+/ack", 1)],
    )
    link.start()
    assert link.wait_connected(10)
    homes = [LoadGateway(link, gw) for gw in gws]
    for h in homes:
        gws[h.gw] = h
    try:
        half = EVENTS // 2
        for h in homes:
            h.send(list(range(1, half + 1)))
        time.sleep(0.3)
        a.send_signal(signal.SIGKILL)  # mid-stream: some batches are in A's hands, unacknowledged
        a.wait(10)
        # A message A was sending when it died may or may not have left: it stays "sending" until its
        # 3 s lease runs out, then B sends it again (at-least-once). Those are the only repeats allowed.
        time.sleep(1.0)
        with session_factory(engine)() as s:
            orphaned = Counter(
                f"/C{int(r.recipient_name[2:])}"
                for r in s.scalars(select(NotificationJob).where(NotificationJob.status == "sending"))
            )  # one home may have two
        for h in homes:
            h.send(list(range(half + 1, EVENTS + 1)))

        # Like the gateway's uplink: resend what is not acknowledged until everything is.
        def all_acked() -> bool:
            missing = {h.gw: h.missing(EVENTS) for h in homes}
            for h in homes:
                if missing[h.gw]:
                    h.send(missing[h.gw])
            return not any(missing.values())

        assert wait_until(all_acked, timeout=120, interval=2.0), "some events were never acknowledged"
        with session_factory(engine)() as s:
            assert s.scalar(select(func.count()).select_from(IngestedEvent)) == GATEWAYS * EVENTS
            n_alarm_events = sum(1 for q in range(1, EVENTS + 1) if homes[0].event(q).lane == "alarm")
            readings = GATEWAYS * (EVENTS - n_alarm_events)
            assert s.scalar(select(func.count()).select_from(Reading)) == readings
            alarms = s.scalars(select(Alarm)).all()
            assert len(alarms) == GATEWAYS * len(TYPES), "one active alarm per home and type"
            assert all(a.repeat_count == 1 for a in alarms), "the second raise of each type is a repeat"

        # Every alarm reaches its caregiver (a job leased by the killed process is taken over) ...
        def notified_all() -> bool:
            with session_factory(engine)() as s:
                return not s.scalar(select(func.count()).select_from(Alarm).where(Alarm.status == "raised"))

        assert wait_until(notified_all, timeout=60, interval=0.5)
        assert receiver.wait_for(GATEWAYS * len(TYPES), 10)
        time.sleep(2)  # anything sent twice would arrive now
        # ... exactly once.
        with session_factory(engine)() as s:
            sent = s.execute(
                select(NotificationAttempt.alarm_id, func.count())
                .where(NotificationAttempt.ok)
                .group_by(NotificationAttempt.alarm_id)
            ).all()
        assert len(sent) == GATEWAYS * len(TYPES) and all(n == 1 for _a, n in sent), f"notified twice: {sent}"
        got = sorted(r.path for r in receiver.received)
        owed = sorted(f"/C{i}" for i in range(GATEWAYS) for _ in TYPES)
        repeats = list(got)
        for path in owed:
            assert path in repeats, f"{path} was never notified of one of its alarms"
            repeats.remove(path)
        assert not Counter(repeats) - orphaned, (
            f"notified twice without a crash to explain it: {repeats} (orphaned sends: {dict(orphaned)})"
        )
    finally:
        link.stop()
        for p in (a, b):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
        engine.dispose()
