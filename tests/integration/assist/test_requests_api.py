"""Requests through /api/v1 on a real database: intake from staff and helpers, steps timed and audited,
the suggestion, SLA overdue on an injected clock, ratings and the supervisor's follow-up."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.db.models_security import AuditEntry
from tests.integration.care.conftest import login

pytestmark = pytest.mark.integration

HOME = {
    "name": "东城为老服务中心",
    "kind": "organisation",
    "categories": ["meals", "cleaning", "repair"],
    "district": "东城区",
    "hours": "每天 8:00–18:00",
    "capacity": 2,
    "phone": "010-6400 0001",
}


def _providers(client, who) -> None:
    for code, body in (
        ("P-EAST", HOME),
        ("P-WEST", {**HOME, "name": "西城家政", "district": "西城区"}),
        ("V-LI", {**HOME, "name": "志愿者 李明", "kind": "volunteer", "categories": ["digital"]}),
    ):
        r = client.post("/api/v1/providers", json={"code": code, **body}, headers=who)
        assert r.status_code == 201, r.text


def _district(client, who, district: str) -> None:
    r = client.put("/api/v1/residents/R001/profile", json={"name": "王淑芬", "district": district}, headers=who)
    assert r.status_code == 200, r.text


def test_a_request_goes_new_to_done_each_step_timed_and_audited_and_is_rated(client, services, clock) -> None:
    coord, admin, duty = login(client, "coord"), login(client, "admin"), login(client, "duty")
    _providers(client, coord)
    _district(client, coord, "东城区")
    r = client.post(
        "/api/v1/requests",
        json={"resident_code": "R001", "category": "meals", "urgency": "normal", "description": "每天中午送一份软食"},
        headers=duty,
    )
    assert r.status_code == 201, r.text
    req = r.json()
    assert req["status"] == "new" and req["channel"] == "staff" and req["overdue"] is False

    # The nearest provider with room and the category comes first; a volunteer for smartphones is not offered.
    ranked = client.get(f"/api/v1/requests/{req['id']}/suggestions", headers=coord).json()
    assert [s["provider_code"] for s in ranked] == ["P-EAST", "P-WEST"] and ranked[0]["same_district"] is True

    times = {}
    for minutes, step in (
        (10, {"step": "assigned", "provider_code": "P-EAST"}),
        (30, {"step": "on_the_way"}),
        (20, {"step": "arrived"}),
        (40, {"step": "done", "note": "已送达，老人满意"}),
    ):
        clock.advance(minutes=minutes)
        r = client.post(f"/api/v1/requests/{req['id']}/steps", json=step, headers=coord)
        assert r.status_code == 200, r.text
        times[step["step"]] = r.json()
    done = times["done"]
    assert done["status"] == "done" and done["provider_code"] == "P-EAST" and done["note"] == "已送达，老人满意"
    assert done["accepted_at"] == done["assigned_at"] == times["assigned"]["assigned_at"]  # assigning accepts first
    assert done["on_the_way_at"] < done["arrived_at"] < done["done_at"]
    with services.sessions() as s:
        actions = [
            a
            for (a,) in s.execute(
                select(AuditEntry.action).where(AuditEntry.target == str(req["id"])).order_by(AuditEntry.id)
            )
        ]
    assert actions == [
        "service_request.created",
        "service_request.accepted",
        "service_request.assigned",
        "service_request.on_the_way",
        "service_request.arrived",
        "service_request.done",
    ]

    # Done twice is refused and changes nothing.
    r = client.post(f"/api/v1/requests/{req['id']}/steps", json={"step": "done"}, headers=coord)
    assert r.status_code == 409 and "cannot become done" in r.json()["detail"]

    # The resident rates it 2/5 by phone: a follow-up opens for the supervisor, who closes it with a note.
    r = client.post(
        "/api/v1/evaluations", json={"request_id": req["id"], "score": 2, "comment": "饭菜太凉"}, headers=duty
    )
    assert r.status_code == 201 and r.json()["follow_up"] == "open"
    opened = client.get("/api/v1/evaluations?follow_up=open", headers=admin).json()
    assert [e["comment"] for e in opened] == ["饭菜太凉"]
    assert (
        client.post(f"/api/v1/evaluations/{opened[0]['id']}/close", json={"note": "x"}, headers=duty).status_code == 403
    )
    r = client.post(
        f"/api/v1/evaluations/{opened[0]['id']}/close",
        json={"note": "已电话回访，换用保温餐盒"},
        headers=login(client, "supervisor"),
    )
    assert r.status_code == 200 and r.json()["follow_up"] == "closed"
    summary = client.get("/api/v1/evaluations/summary", headers=admin).json()
    assert summary["provider"] == [{"key": "东城为老服务中心", "ratings": 1, "mean": 2.0, "low": 1}]
    assert summary["category"] == [{"key": "meals", "ratings": 1, "mean": 2.0, "low": 1}]


def test_sla_overdue_appears_on_the_queue_only_once_the_time_has_passed(client, services, clock) -> None:
    coord = login(client, "coord")
    r = client.post(
        "/api/v1/requests",
        json={"resident_code": "R001", "category": "repair", "description": "厨房水管漏水"},
        headers=coord,
    )
    rid = r.json()["id"]
    clock.advance(hours=47, minutes=59)  # repairs: 48 h
    assert client.get("/api/v1/requests?status=overdue", headers=coord).json() == []
    clock.advance(minutes=2)
    late = client.get("/api/v1/requests?status=overdue", headers=coord).json()
    assert [x["id"] for x in late] == [rid] and late[0]["overdue"] is True
    # An urgent home adaptation is due within 24 h, whatever its category allows.
    r = client.post(
        "/api/v1/requests", json={"resident_code": "R001", "category": "adaptation", "urgency": "urgent"}, headers=coord
    )
    assert r.json()["due_at"].startswith((clock.now.replace(day=clock.now.day + 1)).strftime("%Y-%m-%d"))
    client.post(f"/api/v1/requests/{rid}/steps", json={"step": "cancelled", "note": "家属已自行修好"}, headers=coord)
    assert client.get("/api/v1/requests?status=overdue", headers=coord).json() == []


def test_needs_raised_by_a_helper_become_a_request_and_bad_input_is_refused(client, services, clock) -> None:
    coord, doctor = login(client, "coord"), login(client, "doctor")
    r = client.post(
        "/api/v1/residents/R001/helpers",
        json={"helper_code": "H1", "name": "志愿者 陈静", "role": "volunteer", "channel": "visit"},
        headers=coord,
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/residents/R001/contacts",
        json={
            "channel": "visit",
            "mood": "fair",
            "health": "stable",
            "living": "needs_help",
            "helper_code": "H1",
            "needs": "卫生间想装扶手，地面太滑",
        },
        headers=coord,
    )
    assert r.status_code == 201, r.text
    reqs = client.get("/api/v1/requests", headers=coord).json()
    assert [(x["channel"], x["category"], x["description"]) for x in reqs] == [
        ("helper", "adaptation", "卫生间想装扶手，地面太滑")
    ]
    # Doctors do not take requests; an unknown category or resident is a clear error and nothing is kept.
    assert (
        client.post("/api/v1/requests", json={"resident_code": "R001", "category": "meals"}, headers=doctor).status_code
        == 403
    )
    assert (
        client.post("/api/v1/requests", json={"resident_code": "R001", "category": "spa"}, headers=coord).status_code
        == 422
    )
    r = client.post("/api/v1/requests", json={"resident_code": "NOPE", "category": "meals"}, headers=coord)
    assert r.status_code == 404 and "NOPE" in r.json()["detail"]
    assert len(client.get("/api/v1/requests", headers=coord).json()) == 1
    # Rating an open request is refused.
    assert (
        client.post("/api/v1/evaluations", json={"request_id": reqs[0]["id"], "score": 5}, headers=coord).status_code
        == 409
    )


def test_every_list_is_readable_by_the_demo_admin(client) -> None:
    admin = login(client, "admin")
    for path in ("/api/v1/requests", "/api/v1/providers", "/api/v1/evaluations", "/api/v1/figures/overview"):
        assert client.get(path, headers=admin).status_code == 200, path
    client.cookies.clear()
    assert client.get("/api/v1/requests").status_code == 401
