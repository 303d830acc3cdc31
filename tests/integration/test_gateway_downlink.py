"""Downlink to a real gateway: the weekly test alarm goes down, the home speaks, the test comes back up."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from sqlalchemy import select

from server.db.models import Alarm
from tests.integration.harness import wait_until

pytestmark = pytest.mark.integration


def test_remote_test_alarm_round_trip(installation, receiver):
    server, home = installation
    base = server.settings.base_url
    token = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": "duty", "password": "anxin-demo"}, timeout=15
    ).json()["access_token"]
    r = httpx.post(
        f"{base}/api/v1/gateways/{home.gateway_id}/test-alarm", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert r.status_code == 202

    def spoken():
        return [json.loads(p) for _t, p in home.actions if json.loads(p).get("key") == "test_alarm"]

    assert wait_until(spoken, 15), f"the home did not announce the test; saw {home.actions}"
    assert "每周测试" in spoken()[0]["text"]

    def recorded():
        with server.services.sessions() as s:
            return s.scalars(select(Alarm).where(Alarm.type == "test")).all()

    assert wait_until(recorded, 15), "the test alarm did not come back up"
    [test] = recorded()
    assert (test.status, test.outcome, test.detail.get("by")) == ("resolved", "test_passed", "值班员 赵敏")
    time.sleep(1.0)
    assert receiver.received == [], "a weekly test wakes nobody"
