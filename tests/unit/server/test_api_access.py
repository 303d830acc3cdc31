"""Who may do what through the REST API, and what the desk's endpoints return."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server import alarms as desk
from server.db.models import Caregiver, Gateway, Reading, Resident
from server.links import LinkClaim
from server.services import Services
from tests.unit.server.conftest import login

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def alarm_id(services: Services) -> int:
    with services.sessions() as s, s.begin():
        r = s.scalars(select(Resident)).one()
        s.add(
            Reading(
                resident_id=r.id,
                gateway_id="gw-r001",
                device="bp",
                metric="blood_pressure",
                ts=NOW,
                values={"systolic": 150, "diastolic": 95},
            )
        )
        return desk.apply_gateway_alarm(
            s, "gw-r001", 7, r.id, {"type": "sos", "severity": "emergency", "device": "sos-button"}, NOW, NOW
        ).alarm.id


def test_everything_but_health_needs_a_sign_in(client: TestClient, alarm_id: int) -> None:
    for path in (
        "/api/v1/alarms",
        f"/api/v1/alarms/{alarm_id}",
        "/api/v1/residents",
        "/api/v1/readings",
        "/api/v1/audit",
        "/api/v1/gateways",
        "/api/v1/dead-letters",
    ):
        assert client.get(path).status_code == 401, path
    assert client.get("/api/v1/health").status_code == 200


def test_doctors_see_health_data_but_not_the_desk_or_administration(client: TestClient, alarm_id: int) -> None:
    h = login(client, "doctor")
    client.cookies.clear()
    assert client.get("/api/v1/residents", headers=h).json()[0]["conditions"] == ["高血压", "2 型糖尿病"]
    assert client.get("/api/v1/readings", headers=h).json()[0]["values"] == {"systolic": 150, "diastolic": 95}
    assert client.get("/api/v1/alarms", headers=h).status_code == 403
    assert client.post(f"/api/v1/alarms/{alarm_id}/ack", json={}, headers=h).status_code == 403
    assert client.get("/api/v1/dead-letters", headers=h).status_code == 403
    assert client.put("/api/v1/residents/1/pairings", json=[], headers=h).status_code == 403


def test_staff_acknowledge_as_themselves_and_the_home_is_told(
    client: TestClient, services: Services, alarm_id: int
) -> None:
    h = login(client, "duty")
    r = client.post(f"/api/v1/alarms/{alarm_id}/ack", json={"via": "phone"}, headers=h)
    assert r.status_code == 200
    assert (r.json()["acknowledged_by"], r.json()["acknowledged_via"]) == ("值班员 赵敏", "phone")
    [(gw, cmd)] = services.sent_commands  # type: ignore[attr-defined]
    assert gw == "gw-r001" and cmd.cmd == "alarm_acknowledged" and cmd.args["gateway_seq"] == 7
    client.post(f"/api/v1/alarms/{alarm_id}/notes", json={"note": "neighbour has a key"}, headers=h)
    done = client.post(f"/api/v1/alarms/{alarm_id}/resolve", json={"outcome": "helped_at_home"}, headers=h)
    assert done.json()["status"] == "resolved"
    trail = client.get(f"/api/v1/alarms/{alarm_id}/audit", headers=h).json()
    assert [(a["action"], a["actor"]) for a in trail] == [
        ("raised", "gateway"),
        ("acknowledged", "值班员 赵敏"),
        ("note", "值班员 赵敏"),
        ("resolved", "值班员 赵敏"),
    ]
    again = client.post(f"/api/v1/alarms/{alarm_id}/resolve", json={"outcome": "hospital"}, headers=h)
    assert again.status_code == 409 and "already resolved" in again.json()["detail"]


def test_filters_and_validation_errors_are_clear(client: TestClient, alarm_id: int) -> None:
    h = login(client, "duty")
    assert [a["id"] for a in client.get("/api/v1/alarms?status=active&type=sos", headers=h).json()] == [alarm_id]
    assert client.get("/api/v1/alarms?type=fall", headers=h).json() == []
    bad = client.get("/api/v1/alarms?status=sleeping", headers=h)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "status"]
    bad = client.post(f"/api/v1/alarms/{alarm_id}/resolve", json={"outcome": "vanished"}, headers=h)
    assert bad.status_code == 422 and "helped_at_home" in bad.text
    assert client.get("/api/v1/alarms/99999999999", headers=h).status_code == 422
    assert client.get("/api/v1/alarms/424242", headers=h).status_code == 404


def test_a_caregiver_link_shows_only_its_own_alarm(client: TestClient, services: Services, alarm_id: int) -> None:
    with services.sessions() as s:
        cg = s.scalars(select(Caregiver).where(Caregiver.code == "C001")).one()
    token = services.signer.sign(LinkClaim(alarm_id, cg.id))
    shown = client.get(f"/api/v1/links/{token}").json()
    assert shown["alarm"]["id"] == alarm_id and shown["resident_name"] == "王秀英" and shown["caregiver_name"] == "李伟"
    other = services.signer.sign(LinkClaim(alarm_id + 1, cg.id))
    assert client.get(f"/api/v1/links/{other}").status_code == 404
    assert client.get(f"/api/v1/links/{token[:-2]}xx").status_code == 403
    assert client.get("/api/v1/alarms", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.post(f"/api/v1/links/{token}/ack").json()["acknowledged_via"] == "caregiver_link"


def test_pairings_are_shown_in_order_and_admins_can_change_them(client: TestClient, services: Services) -> None:
    h = login(client, "admin")
    rid = client.get("/api/v1/residents", headers=h).json()[0]["id"]
    order = client.get(f"/api/v1/residents/{rid}/pairings", headers=h).json()
    assert [p["caregiver_code"] for p in order] == ["C001", "C002"]
    new = client.put(
        f"/api/v1/residents/{rid}/pairings",
        headers=h,
        json=[{"caregiver_code": "C002", "ack_timeout_s": 60}, {"caregiver_code": "C001"}],
    ).json()
    assert [(p["rank"], p["caregiver_code"], p["ack_timeout_s"]) for p in new] == [(1, "C002", 60), (2, "C001", 120)]
    bad = client.put(f"/api/v1/residents/{rid}/pairings", headers=h, json=[{"caregiver_code": "C999"}])
    assert bad.status_code == 422 and "C999" in bad.json()["detail"]


def test_test_alarm_is_sent_to_the_gateway(client: TestClient, services: Services) -> None:
    with services.sessions() as s, s.begin():
        s.add(Gateway(id="gw-extra"))
    h = login(client, "duty")
    r = client.post("/api/v1/gateways/gw-r001/test-alarm", headers=h)
    assert r.status_code == 202
    assert [(g, c.cmd) for g, c in services.sent_commands] == [("gw-r001", "test_alarm")]  # type: ignore[attr-defined]
    assert client.post("/api/v1/gateways/gw-nope/test-alarm", headers=h).status_code == 404
    assert {g["id"] for g in client.get("/api/v1/gateways", headers=h).json()} == {"gw-r001", "gw-extra"}


def test_metrics_are_exposed_for_prometheus(client: TestClient, alarm_id: int) -> None:
    text = client.get("/metrics").text
    assert 'anxin_alarms_active{severity="emergency"} 1.0' in text
    assert "anxin_notifications_total" in text


def test_time_filters_understand_time_zones(client: TestClient, alarm_id: int) -> None:
    h = login(client, "duty")
    # NOW is 08:00 UTC = 16:00 in Beijing.
    assert len(client.get("/api/v1/alarms", params={"since": "2026-03-02T15:59:00+08:00"}, headers=h).json()) == 1
    assert client.get("/api/v1/alarms", params={"since": "2026-03-02T16:01:00+08:00"}, headers=h).json() == []
    assert len(client.get("/api/v1/readings", params={"until": "2026-03-02T08:00:01"}, headers=h).json()) == 1


def test_times_are_returned_with_their_zone(client: TestClient, alarm_id: int) -> None:
    h = login(client, "duty")
    assert client.get(f"/api/v1/alarms/{alarm_id}", headers=h).json()["raised_at"] == "2026-03-02T08:00:00Z"
