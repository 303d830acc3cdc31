"""A resident's data rights: consent with time and scope, an export of everything, an erasure that keeps counts."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from server import alarms as desk
from server.db.models import Alarm, NotificationAttempt, Reading, Resident
from server.services import Services
from tests.unit.server.conftest import login

NAME, PHONE, ADDRESS, KEY_HOLDER = "王秀英", "+86 10 6600 0001", "德胜门内大街 12 号", "钥匙另存社区居委会"
AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def history(services: Services) -> None:
    """A reading, an SOS with a note that names the address, and a notification, for R001."""
    with services.sessions() as s, s.begin():
        rid = s.scalars(select(Resident.id).where(Resident.code == "R001")).one()
        s.add(
            Reading(
                resident_id=rid,
                gateway_id="gw-r001",
                device="bp",
                metric="blood_pressure",
                ts=AT,
                values={"systolic": 151, "diastolic": 92, "pulse": 70},
                flags=[],
            )
        )
        alarm = desk.apply_gateway_alarm(
            s, "gw-r001", 1, rid, {"type": "sos", "severity": "emergency", "message": f"{NAME} pressed SOS"}, AT, AT
        ).alarm
        desk.add_note(s, alarm.id, "值班员 赵敏", f"到 {ADDRESS} 找 {KEY_HOLDER}", AT)
        s.add(
            NotificationAttempt(
                alarm_id=alarm.id, recipient="李伟", channel="json://127.0.0.1:9000/caregiver/C001", at=AT, ok=True
            )
        )


def everything_stored(services: Services) -> str:
    """Every row of every table as text: what a copy of the database would give away."""
    with services.sessions() as s:
        tables = [r[0] for r in s.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))]
        return "\n".join(str(row) for t in tables for row in s.execute(text(f'SELECT * FROM "{t}"')))


def test_export_holds_everything_and_erasure_leaves_no_name_phone_or_address(
    client: TestClient, services: Services
) -> None:
    history(services)
    admin = login(client, "admin")
    client.cookies.clear()
    assert client.get("/api/v1/data-rights/R001/export", headers=login(client, "supervisor")).status_code == 403
    client.cookies.clear()
    data = client.get("/api/v1/data-rights/R001/export", headers=admin).json()
    assert data["resident"]["name"] == NAME and data["resident"]["address"].endswith("3 单元 401")
    assert [c["code"] for c in data["caregivers"]] == ["C001", "C002"]
    assert data["readings"][0]["values"]["systolic"] == 151 and data["alarms"][0]["type"] == "sos"
    assert any(ADDRESS in json.dumps(h, ensure_ascii=False) for h in data["alarm_history"])
    assert data["devices"][0]["name"] == "sos-button" and data["notifications"][0]["ok"] is True
    rows = list(csv.reader(io.StringIO(client.get("/api/v1/data-rights/R001/export.csv", headers=admin).text)))
    assert rows[0] == ["section", "record"] and {r[0] for r in rows[1:]} >= {"resident", "readings", "alarms"}

    assert NAME in everything_stored(services)
    r = client.post("/api/v1/data-rights/R001/erase", headers=admin)
    assert r.status_code == 200 and r.json() == {"readings_deleted": 1, "alarms_kept": 1}
    stored = everything_stored(services)
    for personal in (NAME, PHONE, ADDRESS, KEY_HOLDER, "李伟", "+86 138 0000 0001", "氨氯地平"):
        assert personal not in stored, personal
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Alarm)) == 1, "the service figures keep their count"
        assert s.scalar(select(func.count()).select_from(Reading)) == 0
    actions = [e["action"] for e in client.get("/api/v1/admin/audit", headers=admin).json()]
    assert "data_rights.export" in actions and "data_rights.erase" in actions


def test_consent_is_recorded_with_its_time_and_scope(client: TestClient, services: Services) -> None:
    headers = login(client, "supervisor")
    client.cookies.clear()
    r = client.put("/api/v1/data-rights/R001/consent", json={"readings": True, "sharing": False}, headers=headers)
    assert r.status_code == 200 and r.json()["readings"] is True and r.json()["sharing"] is False
    with services.sessions() as s:
        resident = s.scalars(select(Resident).where(Resident.code == "R001")).one()
        assert resident.consent and not resident.consent_sharing and resident.consent_at is not None
    assert client.get("/api/v1/trends/residents/R001", headers=login(client, "doctor")).status_code == 403
    assert (
        client.put(
            "/api/v1/data-rights/R001/consent",
            json={"readings": False, "sharing": False},
            headers=login(client, "duty"),
        ).status_code
        == 403
    )
