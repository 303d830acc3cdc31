"""The follow-up record: the form's rules per 国家基本公共卫生服务规范（第三版）, the pages a doctor uses, the
schedule with its overdue list, and the printable report carrying the record."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from server.db.models import Resident
from server.followup import FollowUpIn, due
from tests.unit.trends.build import NOW, seed_cohort
from tests.unit.trends.site import make_client, sign_in

TODAY = NOW.date()  # 2026-03-15 in Beijing

DIABETES = {
    "condition": "diabetes",
    "visit_date": "2026-03-01",
    "mode": "home",
    "symptoms": ["polydipsia"],
    "weight_kg": 61.5,
    "fasting_glucose_mmol_l": 8.2,
    "adherence": "intermittent",
    "hypoglycaemia": "none",
    "classification": "unsatisfactory",
    "next_date": "2026-03-14",
}


def test_the_form_follows_the_specification() -> None:
    assert FollowUpIn.model_validate(DIABETES).classification == "unsatisfactory"
    problems = {
        "due within 14 days": {**DIABETES, "next_date": "2026-03-20"},
        "records hypoglycaemic reactions": {**DIABETES, "hypoglycaemia": None},
        "not on the diabetes form": {**DIABETES, "symptoms": ["nosebleed"]},
        "cannot be ticked together": {**DIABETES, "symptoms": ["none", "polyuria"]},
        "record the referral": {**DIABETES, "classification": "complication"},
        "describe it": {**DIABETES, "classification": "adverse_reaction"},
        "records the blood pressure": {**DIABETES, "condition": "hypertension", "symptoms": []},
        "after this one": {**DIABETES, "next_date": "2026-03-01"},
    }
    for reason, doc in problems.items():
        with pytest.raises(ValidationError, match=reason):
            FollowUpIn.model_validate(doc)
    controlled = FollowUpIn.model_validate({**DIABETES, "classification": "satisfactory", "next_date": "2026-05-30"})
    assert (controlled.next_date - controlled.visit_date).days == 90


def test_due_dates_and_face_to_face_visits() -> None:
    visits = [
        (date(2025, 6, 1), "clinic", "doctor", date(2025, 9, 1)),
        (date(2025, 9, 1), "phone", "doctor", date(2025, 12, 1)),
        (date(2026, 2, 1), "home", "doctor", date(2026, 3, 1)),
    ]
    d = due(1, "hypertension", visits, TODAY)
    assert (d.last_visit, d.due, d.overdue_days, d.face_to_face_last_year) == (
        date(2026, 2, 1),
        date(2026, 3, 1),
        14,
        2,
    )
    assert d.too_few_visits and due(1, "diabetes", [], TODAY).last_visit is None


@pytest.fixture
def pages(tmp_path: Path) -> Iterator[TestClient]:
    client, sessions = make_client(f"sqlite:///{tmp_path}/followup.db")
    seed_cohort(sessions)
    with sessions() as s, s.begin():
        s.query(Resident).filter_by(code="HIGH").one().conditions = ["高血压", "2 型糖尿病"]
        s.query(Resident).filter_by(code="RISE").one().conditions = ["高血压"]
    sign_in(client, "doctor")
    yield client
    sessions.kw["bind"].dispose()


def post(client: TestClient, code: str, doc: dict, **extra: str):  # type: ignore[no-untyped-def]
    data = {k: v for k, v in doc.items() if k != "symptoms" and v is not None}
    return client.post(
        f"/doctor/residents/{code}/followups",
        data={**data, **extra, "symptoms": doc.get("symptoms", [])},
        follow_redirects=False,
    )


def test_a_doctor_records_a_visit_and_it_shows_on_the_page_and_the_report(pages: TestClient) -> None:
    form = pages.get("/doctor/residents/HIGH/followups/new", params={"condition": "diabetes"}).text
    assert "多饮" in form and "低血糖反应" in form and 'name="hba1c_pct"' in form
    r = post(pages, "HIGH", DIABETES, med_name_1="二甲双胍", med_dose_1="0.5 g", med_times_1="3")
    assert r.status_code == 303 and r.headers["location"] == "/doctor/residents/HIGH#followups"
    for url in ("/doctor/residents/HIGH", "/doctor/residents/HIGH/report"):
        html = pages.get(url).text
        row = re.search(r'<tr data-followup="\d+">(.*?)</tr>', html, re.S)
        assert row, url
        assert "2026-03-01" in row.group(1) and "多饮" in row.group(1) and "控制不满意" in row.group(1)
        assert "空腹血糖 8.2" in row.group(1) and "2026-03-14" in row.group(1) and "doctor" in row.group(1)


def test_a_refused_form_comes_back_with_the_reason_and_everything_entered(pages: TestClient) -> None:
    r = post(pages, "HIGH", {**DIABETES, "next_date": "2026-05-01"}, notes="患者诉夜尿多")
    assert r.status_code == 400 and "未保存" in r.text and "within 14 days" in r.text
    assert "患者诉夜尿多" in r.text and 'value="polydipsia" checked' in r.text
    assert "尚无随访记录" in pages.get("/doctor/residents/HIGH").text


def test_twice_not_controlled_asks_for_a_referral(pages: TestClient) -> None:
    assert post(pages, "HIGH", DIABETES).status_code == 303
    second = {**DIABETES, "visit_date": "2026-03-14", "next_date": "2026-03-28"}
    r = post(pages, "HIGH", second)
    assert r.status_code == 400 and "referral" in r.text
    r = post(pages, "HIGH", second, referral_reason="连续两次血糖控制不满意", referral_institution="区医院内分泌科")
    assert r.status_code == 303
    assert "区医院内分泌科: 连续两次血糖控制不满意" in pages.get("/doctor/residents/HIGH").text


def test_the_schedule_lists_overdue_visits_first_per_doctor(pages: TestClient) -> None:
    post(pages, "HIGH", DIABETES)  # next due 2026-03-14: one day overdue on the 15th
    html = pages.get("/doctor/followups").text
    order = re.findall(r'data-due="([\w/]+)"', html)
    assert order[0] == "HIGH/diabetes" and set(order[1:]) == {"HIGH/hypertension", "RISE/hypertension"}
    assert re.search(r'data-due="HIGH/diabetes".*?data-overdue>1<', html, re.S)
    assert re.search(r'data-count="overdue">1<', html)
    sign_in(pages, "admin")  # another doctor sees the residents nobody follows, not this doctor's
    assert "HIGH/diabetes" not in pages.get("/doctor/followups").text
    assert "HIGH/diabetes" in pages.get("/doctor/followups", params={"everyone": "true"}).text


def test_the_desk_cannot_record_or_read_follow_ups(pages: TestClient) -> None:
    sign_in(pages, "staff")
    assert pages.get("/doctor/followups").status_code == 403
    assert post(pages, "HIGH", DIABETES).status_code == 403
