"""Rules configuration pushed from the server through Mosquitto: applied, reported, and an invalid one
refused while the previous one stays in force."""

from __future__ import annotations

import json

import httpx
import pytest

from anxin import protocol
from server.db.models import Alarm
from tests.integration.harness import auth_headers, wait_until

pytestmark = pytest.mark.integration

GW = "gw-r001"


def status(base: str) -> dict:
    return httpx.get(f"{base}/api/v1/gateways/{GW}/rules", timeout=5, headers=auth_headers(base)).json()


def test_push_apply_report_and_reject_invalid(installation):
    server, home = installation
    base = server.settings.base_url
    worker = home.gateway.gateway

    v1 = {"supervision": {"enabled": False}, "fall": {"cancel_window_s": 20}}
    r = httpx.post(
        f"{base}/api/v1/gateways/{GW}/rules",
        json={"version": 1, "rules": v1, "reason": "bridge being replaced"},
        timeout=5,
        headers=auth_headers(base),
    )
    assert r.status_code == 202, r.text
    assert r.json()["pushed_version"] == 1
    assert wait_until(lambda: status(base)["applied_version"] == 1, 15), status(base)
    assert worker.rules.version == 1

    # The server refuses a document its gateways would refuse, and says why.
    bad = {"sos": {"enabled": False}}
    r = httpx.post(
        f"{base}/api/v1/gateways/{GW}/rules", json={"version": 2, "rules": bad}, timeout=5, headers=auth_headers(base)
    )
    assert r.status_code == 422 and "SOS rule cannot be disabled" in r.text
    assert (
        httpx.post(
            f"{base}/api/v1/gateways/nope/rules", json={"version": 1}, timeout=5, headers=auth_headers(base)
        ).status_code
        == 404
    )

    # A gateway still checks for itself (an older server, a hand-sent command): rejected, reported back.
    server.services.downlink(GW, protocol.Command("rules_config", {"version": 2, "rules": bad}))
    assert wait_until(lambda: status(base)["error"], 15), status(base)
    got = status(base)
    assert "version 2 rejected" in got["error"] and "SOS rule cannot be disabled" in got["error"]
    assert got["applied_version"] == 1 and worker.rules.version == 1

    # Version 1 is still in force, not the defaults: a device going offline raises nothing (supervision
    # is off in v1), and an SOS press still raises the emergency.
    home.button.availability(False)
    home.button.press()

    def alarm_types() -> list[str]:
        with server.services.sessions() as s:
            return [a.type for a in s.query(Alarm).order_by(Alarm.id)]

    assert wait_until(lambda: "sos" in alarm_types(), 15), alarm_types()
    # Both alarms would share the alarm lane in order, so a device_offline alarm would be here by now.
    assert alarm_types() == ["sos"]
    assert wait_until(lambda: "sos_raised" in [json.loads(p).get("key") for _t, p in home.actions], 10)

    # The contrast: version 3 turns supervision back on, and the same offline report now raises.
    r = httpx.post(
        f"{base}/api/v1/gateways/{GW}/rules", json={"version": 3, "rules": {}}, timeout=5, headers=auth_headers(base)
    )
    assert r.status_code == 202
    assert wait_until(lambda: status(base)["applied_version"] == 3, 15), status(base)
    assert status(base)["error"] is None
    stale = httpx.post(
        f"{base}/api/v1/gateways/{GW}/rules", json={"version": 2, "rules": {}}, timeout=5, headers=auth_headers(base)
    )
    assert stale.status_code == 409, "an older version than the applied one is refused"
    home.button.availability(False)
    assert wait_until(lambda: "device_offline" in alarm_types(), 15), alarm_types()


def test_away_mode_from_the_server_and_the_home_reaches_the_rules(installation):
    server, home = installation
    base = server.settings.base_url
    away = {"away": True, "reason": "resident visits family"}
    r = httpx.post(f"{base}/api/v1/gateways/{GW}/mode", json=away, timeout=5, headers=auth_headers(base))
    assert r.status_code == 202
    worker = home.gateway.gateway
    assert wait_until(lambda: worker.rules.state["inactivity"].away_since is not None, 15)
    assert (
        httpx.post(f"{base}/api/v1/gateways/nope/mode", json=away, timeout=5, headers=auth_headers(base)).status_code
        == 404
    )
    # Back home, switched off from the home's own bus (a wall switch, the tablet).
    home.devices_link.publish(f"anxin/home/{GW}/mode", b'{"away": false}', 1)
    assert wait_until(lambda: worker.rules.state["inactivity"].away_since is None, 15)
