"""A routine restart pages no one; a home broker that really dies does.

Stopping the gateway with SIGTERM (systemd on an update or a reboot) disconnects it from the home's
broker on purpose: that must not be stored as a `bridge_offline` alarm that staff receive at the next
start. Killing the home's Mosquitto is an outage: the alarm must reach the server."""

from __future__ import annotations

import json
import signal
import sqlite3

import pytest

from tests.faults.checks import ready
from tests.faults.conftest import Installation
from tests.faults.procs import stored
from tests.integration.harness import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def outbox_alarms(inst: Installation) -> list[dict]:
    """Alarms the gateway's outbox holds (not yet acknowledged by the server)."""
    conn = sqlite3.connect(f"file:{inst.gateway.outbox}?mode=ro", uri=True, timeout=10)
    try:
        return [json.loads(b) for (b,) in conn.execute("SELECT body FROM outbox WHERE lane_name = 'alarm'")]
    finally:
        conn.close()


def bridge_alarms(bodies) -> list[dict]:
    return [b for b in bodies if b and b.get("type") == "bridge_offline"]


def test_sigterm_to_the_gateway_raises_no_bridge_offline_alarm(installation: Installation):
    inst = installation
    ready(inst)
    inst.gateway.stop()  # SIGTERM, as systemd stops it
    assert inst.gateway.proc is not None and inst.gateway.proc.returncode == 0, inst.gateway.log()
    assert bridge_alarms(outbox_alarms(inst)) == [], "a clean stop stored a technical alarm"
    inst.gateway.start()
    ready(inst)
    assert bridge_alarms(outbox_alarms(inst)) == []
    assert bridge_alarms(b for _i, _s, _l, b in stored(inst.server).lane("alarm")) == []


def test_home_broker_that_dies_raises_bridge_offline_to_the_server(installation: Installation):
    inst = installation
    ready(inst)
    inst.devices.link.stop()
    assert inst.home.proc is not None
    inst.home.proc.send_signal(signal.SIGKILL)  # the Pi's Mosquitto crashes
    inst.home.proc.wait(10)

    def raised() -> list[dict]:
        return [
            b
            for b in bridge_alarms(b for _i, _s, _l, b in stored(inst.server).lane("alarm"))
            if b.get("device") == "local-broker" and b.get("change") == "raise"
        ]

    assert wait_until(lambda: raised(), 90, 0.5), inst.gateway.log()
