"""An SOS press travels the whole real path: device -> home broker -> gateway -> central broker ->
server -> caregiver's phone, and the acknowledgement comes back to the home as 'help is coming'."""

from __future__ import annotations

import json

import httpx
import pytest

from server.db.models import Alarm, AlarmAudit, IngestedEvent, NotificationAttempt
from tests.integration.harness import wait_until

pytestmark = pytest.mark.integration


def test_press_reaches_caregiver_and_ack_reaches_home(installation, receiver):
    server, home = installation
    home.button.press()

    got = receiver.wait_for(1, timeout=10)
    assert len(got) == 1, "the caregiver was not notified"
    note = got[0]
    assert note.path == "/caregiver/R001"
    assert "王秀英" in note.doc["title"] and "紧急求助" in note.doc["title"]
    assert "德胜门内大街" in note.doc["message"], "the message must say where the resident is"
    assert note.token, "the message must carry a one-tap acknowledgement link"

    # The server acknowledged after its commit, so the gateway's outbox drains to empty.
    assert wait_until(lambda: home.gateway.outbox.count() == 0, 10), "outbox still holds unacknowledged events"

    def status():
        with server.services.sessions() as s:
            return s.query(Alarm).one().status

    assert wait_until(lambda: status() == "notified", 5), "the delivery was not recorded on the alarm"
    with server.services.sessions() as s:
        alarm = s.query(Alarm).one()
        assert (alarm.type, alarm.severity) == ("sos", "emergency")
        assert s.query(NotificationAttempt).filter_by(alarm_id=alarm.id, ok=True).count() == 1

    # The caregiver taps the link: the API records it and the home hears that help is coming.
    url = f"{server.settings.base_url}/api/v1/links/{note.token}/ack"
    response = httpx.post(url, timeout=5)
    assert response.status_code == 200, response.text
    assert response.json()["acknowledged_by"] == "李伟"

    def help_coming():
        return [json.loads(p) for _t, p in home.actions if json.loads(p).get("key") == "help_coming"]

    assert wait_until(help_coming, 10), f"no 'help is coming' on the local bus; saw {home.actions}"
    said = [a for a in help_coming() if a["action"] == "say"]
    assert said and "李伟" in said[0]["text"]

    with server.services.sessions() as s:
        alarm = s.query(Alarm).one()
        assert alarm.status == "acknowledged" and alarm.acknowledged_via == "caregiver_link"
        actions = [a.action for a in s.query(AlarmAudit).filter_by(alarm_id=alarm.id).order_by(AlarmAudit.id)]
        assert actions == ["raised", "escalated", "notified", "acknowledged"]


def test_staff_ack_through_rest_api(installation, receiver):
    server, home = installation
    home.button.press()
    assert receiver.wait_for(1, 10)
    base = server.settings.base_url

    def sign_in(user: str) -> dict[str, str]:
        t = httpx.post(f"{base}/api/v1/auth/token", data={"username": user, "password": "anxin-demo"}, timeout=15)
        return {"Authorization": f"Bearer {t.json()['access_token']}"}

    duty, supervisor = sign_in("duty"), sign_in("supervisor")
    alarms = httpx.get(f"{base}/api/v1/alarms?status=active", headers=duty, timeout=5).json()
    assert [a["type"] for a in alarms] == ["sos"]
    r = httpx.post(f"{base}/api/v1/alarms/{alarms[0]['id']}/ack", json={"via": "console"}, headers=duty, timeout=5)
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    assert wait_until(lambda: any(b"help_coming" in p for _t, p in home.actions), 10)
    # A second acknowledgement is audited but does not reset who answered first.
    r2 = httpx.post(f"{base}/api/v1/alarms/{alarms[0]['id']}/ack", json={}, headers=supervisor, timeout=5)
    assert r2.json()["acknowledged_by"] == "值班员 赵敏"
    assert httpx.post(f"{base}/api/v1/alarms/999/ack", json={}, headers=duty, timeout=5).status_code == 404
    assert httpx.post(f"{base}/api/v1/links/forged-token/ack", timeout=5).status_code == 403


def test_every_press_is_stored_once_even_when_resent(installation, receiver):
    server, home = installation
    home.button.press()
    assert receiver.wait_for(1, 10)
    assert wait_until(lambda: home.gateway.outbox.count() == 0, 10)
    with server.services.sessions() as s:
        n_events = s.query(IngestedEvent).count()
        seqs = [e.seq for e in s.query(IngestedEvent).all()]
    assert len(seqs) == len(set(seqs)) == n_events


def test_a_press_after_staff_resolved_the_first_sos_is_still_told_help_is_coming(installation, receiver):
    """Staff close the first SOS; within the hour the resident presses again. The gateway sends that
    press as an update of the type it still believes open, the server opens a new alarm from it, and
    its acknowledgement must reach the home as "help is coming" like any other."""
    server, home = installation
    home.button.press()
    first = receiver.wait_for(1, timeout=10)
    assert len(first) == 1
    base = server.settings.base_url
    token = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": "duty", "password": "anxin-demo"}, timeout=15
    ).json()["access_token"]
    staff = {"Authorization": f"Bearer {token}"}
    with server.services.sessions() as s:
        alarm_id = s.query(Alarm).one().id
    r = httpx.post(
        f"{base}/api/v1/alarms/{alarm_id}/resolve", json={"outcome": "helped_at_home"}, headers=staff, timeout=5
    )
    assert r.status_code == 200, r.text

    home.button.press()  # help is needed again
    assert wait_until(lambda: len(receiver.received) >= 2, 15), "the second press was not notified"
    with server.services.sessions() as s:
        second = s.query(Alarm).filter(Alarm.status != "resolved").one()
    r = httpx.post(f"{base}/api/v1/alarms/{second.id}/ack", json={"via": "console"}, headers=staff, timeout=5)
    assert r.status_code == 200, r.text

    def help_coming():
        return [
            json.loads(p)
            for _t, p in home.actions
            if json.loads(p).get("key") == "help_coming" and json.loads(p).get("action") == "say"
        ]

    assert wait_until(help_coming, 10), f"the home never heard that help is coming; saw {home.actions}"


def test_a_caregivers_tap_while_the_server_is_cut_from_the_broker_is_recorded_and_answered(
    installation, receiver, central_broker
):
    """The broker restarts (or the intake probe reconnects) just as the caregiver taps: the
    acknowledgement is stored, the caregiver gets the page that says so (not an error), and staff
    see on the alarm that the home could not be told."""
    import re

    server, home = installation
    home.button.press()
    [note] = receiver.wait_for(1, timeout=10)
    link = re.search(r"https?://\S+/c/\S+", note.text).group(0)
    central_broker.stop()
    assert wait_until(lambda: not server.link.connected.is_set(), 15)
    r = httpx.post(link + "/ack", timeout=10, follow_redirects=False)
    assert r.status_code == 303, f"the caregiver's tap answered {r.status_code}: {r.text[:200]}"
    with server.services.sessions() as s:
        alarm = s.query(Alarm).one()
        assert alarm.status == "acknowledged" and alarm.acknowledged_by == "李伟"
        actions = [a.action for a in s.query(AlarmAudit).filter_by(alarm_id=alarm.id)]
        assert "home_not_told" in actions, actions
