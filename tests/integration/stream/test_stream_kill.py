"""kill -9 one of two ingest processes mid-stream: the survivor takes its partitions within seconds and,
with no resend from the gateways, JetStream delivers what the dead one held again: every event stored once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from anxin.ports import free_port, wait_for_port
from firmware_sim.installation import demo_provision
from server.db.models import IngestedEvent
from server.db.session import create_schema, make_engine, session_factory
from server.provision import apply
from tests.integration.harness import wait_until
from tests.integration.stream.nats_node import NatsNode
from tests.integration.stream.test_stream_ingest import StreamGateway

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.faults]


def start(node: NatsNode, db_url: str, tmp_path: Path, name: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ANXIN_")},
        "ANXIN_SECRET_KEY": "shared-secret-of-the-test",
        **node.cluster.server_env(),
    }
    args = ["--database-url", db_url, "run", "--port", str(port), "--no-embedded-broker"]
    args += ["--mqtt-port", str(node.mqtt_port)]
    with open(tmp_path / f"{name}.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "server", *args], stdout=log, stderr=subprocess.STDOUT, env=env)
    assert wait_for_port(port, timeout=60), (tmp_path / f"{name}.log").read_text()
    return proc, f"http://127.0.0.1:{port}"


def owned(base_url: str) -> int:
    try:
        text = httpx.get(f"{base_url}/metrics", timeout=5).text
    except httpx.HTTPError:
        return -1
    found = re.search(r"^anxin_stream_partitions_owned (\d+)", text, re.M)
    return int(found.group(1)) if found else -1


def test_kill_one_of_two_ingest_processes(nats_node: NatsNode, postgres_url: str, tmp_path: Path) -> None:
    engine = make_engine(postgres_url)
    create_schema(engine)
    with session_factory(engine)() as s, s.begin():
        apply(s, demo_provision(8, []))
    a, a_url = start(nats_node, postgres_url, tmp_path, "a")
    b, b_url = start(nats_node, postgres_url, tmp_path, "b")
    gateways = [StreamGateway(nats_node, f"gw-r{i:03d}").__enter__() for i in range(1, 9)]
    try:
        assert wait_until(lambda: owned(a_url) == 8 and owned(b_url) == 8, timeout=60)
        for b_no in range(10):
            for gw in gateways:
                gw.send(list(range(b_no * 10 + 1, b_no * 10 + 11)))
            if b_no == 5:
                a.send_signal(signal.SIGKILL)  # mid-stream: some batches are in A's hands, not acked
                a.wait(10)
        assert wait_until(lambda: owned(b_url) == 16, timeout=30), "the survivor takes every partition"
        # Nothing is resent by these gateways: what A held comes back from JetStream after its ack wait.
        assert wait_until(lambda: all(gw.has_acks(range(1, 101)) for gw in gateways), timeout=120, interval=1)
        with session_factory(engine)() as s:
            assert s.scalar(select(func.count()).select_from(IngestedEvent)) == 8 * 100
    finally:
        for gw in gateways:
            gw.__exit__()
        for p in (a, b):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(40)
                except subprocess.TimeoutExpired:
                    p.kill()
        engine.dispose()
