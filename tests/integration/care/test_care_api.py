"""The care record through /api/v1 on a real database: profile history, assessment, pairing, contacts, queue."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.db.models import Alarm, Resident
from server.db.models_care import CareAudit
from tests.integration.care.conftest import PROFILE, login
from tests.unit.care.example import EXAMPLE

pytestmark = pytest.mark.integration


def test_profile_is_created_changed_with_history_and_categories_follow(client, services, clock) -> None:
    coord, admin = login(client, "coord"), login(client, "admin")
    r = client.put("/api/v1/residents/R900/profile", json=PROFILE, headers=coord)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["age"] == 84 and body["categories"] == ["高龄", "空巢"] and body["tier"] == "priority"
    assert body["contact_interval_days"] == 30 and "sos_button" in body["devices_needed"]

    clock.advance(minutes=5)
    changed = {
        **PROFILE,
        "living_arrangement": "children",
        "allergies": ["青霉素", "磺胺"],
        "staff_categories": {"重病": "2027年2月确诊肺癌晚期"},
    }
    r = client.put("/api/v1/residents/R900/profile", json=changed, headers=coord)
    assert r.json()["categories"] == ["高龄", "重病"] and r.json()["tier"] == "high"
    history = client.get("/api/v1/residents/R900/profile/history", headers=admin).json()
    latest = {h["field"]: h for h in history if h["at"] == history[0]["at"]}
    assert set(latest) == {"living_arrangement", "allergies", "staff_categories"}
    assert latest["allergies"]["old"] == ["青霉素"] and latest["allergies"]["new"] == ["青霉素", "磺胺"]
    assert latest["allergies"]["actor"] == "coord"
    assert client.get("/api/v1/residents/R900/profile", headers=admin).status_code == 200
    with services.sessions() as s:
        actions = [a.action for a in s.scalars(select(CareAudit).order_by(CareAudit.id))]
    assert actions[:2] == ["profile_created", "profile_read"] and "profile_changed" in actions


def test_staff_category_without_reason_and_unknown_fields_are_refused_and_nothing_is_lost(client) -> None:
    coord = login(client, "coord")
    client.put("/api/v1/residents/R900/profile", json=PROFILE, headers=coord)
    bad = client.put(
        "/api/v1/residents/R900/profile", json={**PROFILE, "staff_categories": {"重病": ""}}, headers=coord
    )
    assert bad.status_code == 422
    assert client.put("/api/v1/residents/R900/profile", json={**PROFILE, "salary": 1}, headers=coord).status_code == 422
    assert client.get("/api/v1/residents/R900/profile", headers=coord).json()["allergies"] == ["青霉素"]


def test_desk_staff_read_but_only_coordinators_and_admins_write(client) -> None:
    duty = login(client, "duty")
    assert client.put("/api/v1/residents/R900/profile", json=PROFILE, headers=duty).status_code == 403
    assert client.put("/api/v1/residents/R900/profile", json=PROFILE, headers=login(client, "admin")).status_code == 200
    assert client.get("/api/v1/residents/R900/profile", headers=duty).status_code == 200
    client.cookies.clear()  # signing in also set the session cookie
    assert client.get("/api/v1/residents/R900/profile").status_code == 401
    assert client.get("/api/v1/residents/NOPE/profile", headers=duty).status_code == 404


def test_assessment_grade_makes_the_resident_disabled_and_the_default_plan_weekly(client, clock) -> None:
    coord, admin = login(client, "coord"), login(client, "admin")
    client.put("/api/v1/residents/R900/profile", json={**PROFILE, "living_arrangement": "children"}, headers=coord)
    r = client.post(
        "/api/v1/residents/R900/assessments",
        json={
            "reason": "first",
            "assessor": "评估员 陈静",
            "answers": EXAMPLE,
            "assessed_at": "2027-03-01T08:30:00+08:00",
        },
        headers=coord,
    )
    assert r.status_code == 201, r.text
    assert r.json()["assessed_at"].startswith("2027-03-01T00:30:00")  # kept as UTC on every database
    assert (r.json()["total"], r.json()["grade"]) == (54, "moderate")
    assert client.get("/api/v1/residents/R900/profile", headers=admin).json()["categories"] == ["高龄", "失能"]
    bad = client.post(
        "/api/v1/residents/R900/assessments",
        json={"reason": "routine", "assessor": "x", "answers": {**EXAMPLE, "B2.4": 4}},
        headers=coord,
    )
    assert bad.status_code == 422 and "B2.4" in bad.json()["detail"]
    assert len(client.get("/api/v1/residents/R900/assessments", headers=admin).json()) == 1

    r = client.post(
        "/api/v1/residents/R900/helpers",
        headers=coord,
        json={"helper_code": "H01", "name": "青年干部 小刘", "role": "young_cadre", "phone": "138 0000 2222"},
    )
    assert r.status_code == 201, r.text
    plan = r.json()[0]
    assert plan["rrule"] == "FREQ=WEEKLY;BYDAY=MO" and plan["next_due"] == "2027-03-01" and not plan["overdue"]
    assert "/h/" in plan["link"]


def test_overdue_queue_fills_and_empties_with_a_logged_contact(client, clock) -> None:
    coord, admin = login(client, "coord"), login(client, "admin")
    client.put("/api/v1/residents/R900/profile", json=PROFILE, headers=coord)
    client.post(
        "/api/v1/residents/R900/helpers",
        headers=coord,
        json={
            "helper_code": "H01",
            "name": "志愿者 小王",
            "role": "volunteer",
            "rrule": "FREQ=WEEKLY;BYDAY=MO",
            "starts_on": "2027-02-22",
            "channel": "phone",
        },
    )
    overdue = client.get("/api/v1/contacts/overdue", headers=admin).json()
    assert [(o["resident_code"], o["helper_code"], o["due"]) for o in overdue] == [("R900", "H01", "2027-02-22")]
    r = client.post(
        "/api/v1/residents/R900/contacts",
        headers=coord,
        json={
            "channel": "phone",
            "helper_code": "H01",
            "mood": "good",
            "health": "stable",
            "living": "good",
            "hazards": ["gas"],
            "needs": "想报名社区京剧班",
        },
    )
    assert r.status_code == 201, r.text
    assert client.get("/api/v1/contacts/overdue", headers=admin).json() == []
    log = client.get("/api/v1/residents/R900/contacts", headers=admin).json()
    assert log[0]["by"] == "志愿者 小王" and log[0]["hazards"] == ["gas"]
    future = client.post(
        "/api/v1/residents/R900/contacts",
        headers=coord,
        json={"at": "2027-04-01T08:00:00Z", "channel": "visit", "mood": "good", "health": "stable", "living": "good"},
    )
    assert future.status_code == 422


def test_an_sos_schedules_a_follow_up_visit_that_a_phone_call_does_not_settle(client, services, clock) -> None:
    coord, admin = login(client, "coord"), login(client, "admin")
    with services.sessions() as s, s.begin():
        r001 = s.scalars(select(Resident).where(Resident.code == "R001")).one()
        s.add(
            Alarm(
                resident_id=r001.id,
                gateway_id="gw-r001",
                type="sos",
                severity="emergency",
                status="resolved",
                raised_at=clock.now,
                updated_at=clock.now,
                outcome="helped_at_home",
            )
        )
        # A button pressed by mistake, closed as a false alarm, owes no visit.
        s.add(
            Alarm(
                resident_id=r001.id,
                gateway_id="gw-r001",
                type="sos",
                severity="emergency",
                status="resolved",
                raised_at=clock.now,
                updated_at=clock.now,
                outcome="false_alarm",
            )
        )
    due = client.get("/api/v1/contacts/due", headers=admin).json()
    assert [(d["resident_code"], d["kind"], d["channel"], d["due"]) for d in due] == [
        ("R001", "follow_up", "visit", "2027-03-02")
    ]
    clock.advance(hours=25)
    assert [d["kind"] for d in client.get("/api/v1/contacts/overdue", headers=admin).json()] == ["follow_up"]
    call = {"channel": "phone", "mood": "fair", "health": "stable", "living": "good"}
    client.post("/api/v1/residents/R001/contacts", headers=coord, json=call)
    assert len(client.get("/api/v1/contacts/overdue", headers=admin).json()) == 1
    client.post("/api/v1/residents/R001/contacts", headers=coord, json={**call, "channel": "visit"})
    assert client.get("/api/v1/contacts/overdue", headers=admin).json() == []


def test_search_filters_and_coverage(client, clock) -> None:
    coord = login(client, "coord")
    client.put("/api/v1/residents/R900/profile", json=PROFILE, headers=coord)
    found = client.get(
        "/api/v1/care/residents", params={"category": "空巢", "age": "80-89", "district": "东城区"}, headers=coord
    ).json()
    assert [f["code"] for f in found] == ["R900"]
    assert client.get("/api/v1/care/residents", params={"age": "60-69"}, headers=coord).json() == []
    cov = {c["category"]: c for c in client.get("/api/v1/care/coverage", headers=coord).json()}
    assert cov["空巢"]["residents"] >= 1 and cov["空巢"]["reached"] == 0
    client.post(
        "/api/v1/residents/R900/contacts",
        headers=coord,
        json={"channel": "visit", "mood": "good", "health": "stable", "living": "good"},
    )
    after = {c["category"]: c for c in client.get("/api/v1/care/coverage", headers=coord).json()}
    assert after["空巢"]["reached"] == 1 and after["高龄"]["reached"] == 1
    clock.advance(days=31)  # a priority resident's interval is 30 days
    assert {c["category"]: c for c in client.get("/api/v1/care/coverage", headers=coord).json()}["空巢"]["reached"] == 0


def test_fhir_questionnaire_and_response_validate_and_admin_reads_every_endpoint(client) -> None:
    from fhir.resources.R4B.questionnaire import Questionnaire
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    coord, admin = login(client, "coord"), login(client, "admin")
    client.put("/api/v1/residents/R900/profile", json=PROFILE, headers=coord)
    made = client.post(
        "/api/v1/residents/R900/assessments",
        json={"reason": "first", "assessor": "陈静", "answers": EXAMPLE},
        headers=coord,
    ).json()
    client.post(
        "/api/v1/residents/R900/helpers",
        headers=coord,
        json={"helper_code": "H01", "name": "小王", "role": "volunteer"},
    )
    form = Questionnaire.model_validate(client.get("/api/v1/care/questionnaire", headers=admin).json())
    assert [len(g.item) for g in form.item] == [8, 4, 9, 5]
    answer = QuestionnaireResponse.model_validate(
        client.get(f"/api/v1/residents/R900/assessments/{made['id']}/fhir", headers=admin).json()
    )
    result = next(g for g in answer.item if g.linkId == "result")
    assert result.item[0].answer[0].valueInteger == 54 and result.item[1].answer[0].valueString == "moderate"
    for url in (
        "/residents/R900/profile",
        "/residents/R900/assessments",
        "/residents/R900/helpers",
        "/residents/R900/contacts",
        "/contacts/overdue",
        "/contacts/due",
        "/care/coverage",
        "/care/residents",
    ):
        assert client.get(f"/api/v1{url}", headers=admin).status_code == 200, url
