"""Fault injection with real processes: kill, restart and cut things, then check exactly what the
server stored. After each: every alarm stored once and in order, every reading stored once unless
thinned (and then accounted for by a gap record), alarms delivered before the backlog."""

from __future__ import annotations

import signal
import time

import httpx
import pytest

from tests.faults.checks import assert_alarms_first, assert_nothing_lost, caught_up, ready, settled, settled_high_seq
from tests.faults.conftest import ALLOW, Installation
from tests.faults.procs import stored
from tests.integration.harness import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def test_kill_9_gateway_mid_stream(installation: Installation):
    inst = installation
    ready(inst)
    d = inst.devices
    d.stream(0, 600, per_s=400)
    d.press()
    d.stream(600, 400)  # a burst: the home broker has its whole in-flight window out to the gateway
    inst.gateway.kill()  # mid-stream: batches in flight, messages queued in the worker, PUBACKs unsent
    d.stream(1000, 500, per_s=400)  # the home broker keeps these for the gateway's session
    d.press()
    inst.gateway.start()
    d.stream(1500, 500, per_s=400)
    d.press()
    st = settled(inst)
    assert_nothing_lost(st, inst)
    assert any(b.get("reason") == "unclean_restart" for _i, _s, _l, b in st.lane("gap"))


def test_central_broker_restart(installation: Installation):
    inst = installation
    ready(inst)
    d = inst.devices
    d.stream(0, 500, per_s=400)
    inst.central.stop()
    boundary = settled_high_seq(inst)
    d.press()
    d.stream(500, 500, per_s=400)
    inst.central.start()
    d.stream(1000, 500, per_s=400)
    d.press()
    st = settled(inst)
    assert_nothing_lost(st, inst)
    assert_alarms_first(st, boundary, 1)


def test_server_stopped_then_restarted(installation: Installation):
    # The issue says "for a minute"; about 10 s proves the same property (nothing acknowledged while the
    # server is away, everything resent once it is back) in a suite that must stay short.
    inst = installation
    ready(inst)
    d = inst.devices
    d.stream(0, 300, per_s=400)
    inst.server.stop()
    boundary = settled_high_seq(inst)
    d.stream(300, 1000, per_s=400)
    d.press()
    d.stream(1300, 1000, per_s=400)
    d.press()
    caught_up(inst)
    time.sleep(2)
    inst.server.start()
    st = settled(inst)
    assert_nothing_lost(st, inst)
    assert_alarms_first(st, boundary, 2)


def test_long_outage_10000_readings_and_alarms(installation: Installation):
    inst = installation
    ready(inst)
    d = inst.devices
    inst.central.stop()
    boundary = settled_high_seq(inst)
    for part in range(4):
        d.stream(part * 2500, 2500)
        d.press()
    caught_up(inst)
    inst.central.start()
    st = settled(inst)
    assert_nothing_lost(st, inst)
    assert_alarms_first(st, boundary, 4)


def test_lost_acknowledgement_gives_duplicates_that_are_ignored(installation: Installation):
    inst = installation
    ready(inst)
    d = inst.devices
    # From now on the broker drops every ack to the gateway: the server commits, the gateway never hears.
    inst.acl.write_text(
        "topic readwrite #\nuser gw-f1\ntopic write anxin/v1/gw/gw-f1/up\ntopic write anxin/v1/gw/gw-f1/state\n"
    )
    inst.central.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    d.stream(0, 300, per_s=300)
    d.press()
    d.flush()

    def all_in() -> bool:
        st = stored(inst.server)
        return set(d.readings) <= set(st.humidity) and len(st.lane("alarm")) == d.presses

    assert wait_until(all_in, 60), "the server did not commit the stream"
    duplicates_before = ingest_counters(inst)["duplicates"]
    count = len(stored(inst.server).rows)
    # The gateway, hearing nothing, resends (backoff 2-4 s) what the server already has.
    assert wait_until(lambda: ingest_counters(inst)["duplicates"] > duplicates_before + 300, 60)
    assert len(stored(inst.server).rows) == count, "a resent event was stored twice"
    inst.acl.write_text(ALLOW)
    inst.central.proc.send_signal(signal.SIGHUP)
    st = settled(inst)
    assert_nothing_lost(st, inst)

    # With acks flowing again (a resubscription refused meanwhile is healed by the stuck-link
    # detector's reconnect) the gateway hears them and stops resending: no duplicates for 8 s, longer
    # than its longest backoff (4 s with jitter).
    def quiet() -> bool:
        before = ingest_counters(inst)["duplicates"]
        time.sleep(8)
        return ingest_counters(inst)["duplicates"] == before

    assert wait_until(quiet, 90, 0), "the gateway kept resending: it never heard the acks"


def ingest_counters(inst: Installation) -> dict[str, int]:
    """The server's ingest counters from its health endpoint."""
    r = httpx.get(f"http://127.0.0.1:{inst.server.port}/api/v1/health", timeout=10)
    return {"duplicates": 0, **r.json()["ingest"]}


def test_disk_cap_reached_during_outage(make_installation):
    inst = make_installation(outbox={"max_mb": 0.6})
    inst.server.start()
    inst.gateway.start()
    ready(inst)
    d = inst.devices
    inst.central.stop()
    boundary = settled_high_seq(inst)
    outage = []
    for part in range(4):
        d.stream(part * 2500, 2500)
        outage.extend(range(part * 2500, part * 2500 + 2500))
        d.press()
    caught_up(inst)
    # The worker's next tick brings the outbox under its cap, while the line is still down.
    assert wait_until(lambda: inst.gateway.outbox_bytes() <= 600_000, 10), inst.gateway.outbox_bytes()
    inst.central.start()
    st = settled(inst)
    assert_nothing_lost(st, inst, thinned_from=outage)
    assert_alarms_first(st, boundary, 4)
