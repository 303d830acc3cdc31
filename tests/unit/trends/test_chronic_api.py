"""Chronic-condition trends through the API on a real SQLite file: figures with the meal context joined from
the meter's context records, the cohort order, FHIR R4 validated with fhir.resources, and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.db.models import Reading, Resident
from tests.unit.trends.build import GLUCOSE, at, seed_cohort
from tests.unit.trends.site import make_client, sign_in

START = at(5, "00:00")  # glucose series starts on day 5 of the seeded fortnight


def _add(
    s,
    rid: int,
    metric: str,
    when,
    values: dict,
    flags: list[str] | None = None,  # type: ignore[no-untyped-def]
    device: str = "meter",
) -> None:
    s.add(
        Reading(
            resident_id=rid,
            gateway_id="gw-x",
            device=device,
            metric=metric,
            ts=when.astimezone(UTC),
            values=values,
            flags=flags or [],
        )
    )


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    c, sessions = make_client(f"sqlite:///{tmp_path}/trends.db")
    seed_cohort(sessions)
    with sessions() as s, s.begin():
        sugar = Resident(
            code="SUGAR", name="糖 患者", conditions=["高血压", "2 型糖尿病"], consent=True, consent_sharing=True
        )
        heart = Resident(
            code="HEART", name="心 患者", conditions=["慢性心力衰竭", "慢阻肺"], consent=True, consent_sharing=True
        )
        s.add_all([sugar, heart])
        s.flush()
        for seq, (t, value, ctx) in enumerate(GLUCOSE):
            when = START + timedelta(seconds=t)
            # half the contexts come as the meter's own 0x2A34 records, joined by sequence number
            if seq % 2:
                _add(s, sugar.id, "glucose", when, {"glucose_mmol_l": value, "sequence": seq}, ["context_follows"])
                _add(s, sugar.id, "glucose_context", when, {"sequence": seq}, [ctx])
            else:
                _add(s, sugar.id, "glucose", when, {"glucose_mmol_l": value}, [ctx])
        for day, kg in ((6, 70.0), (7, 70.5), (8, 71.0), (9, 72.3), (13, 71.0)):
            _add(s, heart.id, "weight", at(day, "07:00"), {"weight_kg": kg, "bmi": 26.1}, device="scale")
        for i, v in enumerate((92, 89, 87, 88, 93)):  # COPD: threshold 88 %
            _add(
                s,
                heart.id,
                "spo2",
                at(10, "02:00") + timedelta(seconds=10 * i),
                {"spo2": v, "pulse": 80},
                ["continuous"],
                device="oximeter",
            )
        _add(s, heart.id, "body_temperature", at(11, "09:00"), {"temperature_c": 37.6}, device="thermometer")
    sign_in(c, "doctor")
    yield c
    sessions.kw["bind"].dispose()


def test_glucose_figures_join_the_meters_context_records(client: TestClient) -> None:
    body = client.get("/api/v1/trends/residents/SUGAR/chronic", params={"days": 14}).json()
    g = body["glucose"]
    assert (g["readings"], g["hypo_events"], g["hypo_level_2_events"]) == (8, 2, 1)
    assert g["share_in_range"] == pytest.approx(3 / 8) and g["cv"] == pytest.approx(49.433, abs=1e-3)
    by = {c["context"]: c for c in g["by_context"]}
    assert (
        by["fasting"]["readings"],
        by["before_meal"]["readings"],
        by["after_meal"]["readings"],
        by["bedtime"]["readings"],
        by["other"]["readings"],
    ) == (3, 2, 2, 1, 0)
    assert body["warnings"] == ["hypoglycaemia_level_2", "glucose_off_target", "glucose_unstable"]


def test_heart_failure_and_copd_residents_get_their_own_figures(client: TestClient) -> None:
    body = client.get("/api/v1/trends/residents/HEART/chronic", params={"days": 14}).json()
    assert body["weight"]["max_gain_3_days"] == pytest.approx(2.3)
    assert body["weight"]["slope_per_week"] == pytest.approx(0.93973, abs=1e-4)
    assert body["spo2"]["threshold"] == 88.0 and body["spo2"]["below_min"] == pytest.approx(10 / 60)
    assert body["warnings"] == ["low_spo2", "weight_gain"]  # 10 of 40 s below 88 %: more than a tenth


def test_the_cohort_ranks_the_chronic_risks(client: TestClient) -> None:
    rows = client.get("/api/v1/trends/cohort").json()
    by = {r["resident"]: r for r in rows}
    assert [r["resident"] for r in rows][:3] == ["SUGAR", "HEART", "HIGH"]
    assert by["SUGAR"]["risk"] == 16 + 2 + 2 + 2  # + not measuring blood pressure
    assert "not_measuring" in by["SUGAR"]["warnings"] and "hypoglycaemia_level_2" in by["SUGAR"]["warnings"]


def test_fhir_bundle_with_glucose_spo2_weight_and_temperature_is_valid_r4(client: TestClient) -> None:
    from fhir.resources.R4B.bundle import Bundle

    for code in ("SUGAR", "HEART"):
        r = client.get(f"/api/v1/trends/residents/{code}/fhir", params={"days": 14})
        resources = [e.resource for e in Bundle.model_validate_json(r.content).entry][1:]
        by = {}
        for o in resources:
            by.setdefault(o.code.coding[0].code, []).append(o)
        if code == "SUGAR":
            glucose = by["14743-9"]
            assert len(glucose) == 8 and (glucose[0].valueQuantity.value, glucose[0].valueQuantity.code) == (
                5.0,
                "mmol/L",
            )
            assert glucose[0].valueQuantity.system == "http://unitsofmeasure.org"
            assert glucose[0].note[0].text == "monitor flags: fasting"
        else:
            spo2 = by["2708-6"]
            assert len(spo2) == 5 and [c.code for c in spo2[0].code.coding] == ["2708-6", "59408-5"]
            assert spo2[0].valueQuantity.code == "%" and len(by["8867-4"]) == 5
            assert [float(o.valueQuantity.value) for o in by["29463-7"]] == [70.0, 70.5, 71.0, 72.3, 71.0]
            assert by["29463-7"][0].valueQuantity.code == "kg" and by["39156-5"][0].valueQuantity.code == "kg/m2"
            assert (float(by["8310-5"][0].valueQuantity.value), by["8310-5"][0].valueQuantity.code) == (37.6, "Cel")


def test_vitals_csv(client: TestClient) -> None:
    r = client.get("/api/v1/trends/residents/SUGAR/vitals.csv", params={"days": 14})
    assert 'filename="SUGAR-vitals.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["metric"], x["value"], x["unit"]) for x in rows][:2] == [
        ("glucose", "5.0", "mmol/L"),
        ("glucose", "9.0", "mmol/L"),
    ]
    assert rows[0]["time_local"] == "2026-03-07T00:00:00+08:00" and rows[0]["context"] == "fasting"
    assert client.get("/api/v1/trends/residents/NOBODY/chronic").status_code == 404


def test_staff_do_not_see_chronic_trends(tmp_path: Path) -> None:
    c, sessions = make_client(f"sqlite:///{tmp_path}/t.db")
    seed_cohort(sessions)
    assert c.get("/api/v1/trends/residents/OK/chronic").status_code == 401
    sign_in(c, "staff")
    assert c.get("/api/v1/trends/residents/OK/chronic").status_code == 403
    assert c.get("/api/v1/trends/residents/OK/vitals.csv").status_code == 403
    with sessions() as s:
        assert s.scalars(select(Resident).where(Resident.code == "OK")).one()


def test_doctor_pages_show_the_chronic_picture_and_rank_it(client: TestClient) -> None:
    import re

    html = client.get("/doctor").text
    assert re.findall(r'data-resident="(\w+)"', html)[:3] == ["SUGAR", "HEART", "HIGH"]
    assert re.search(r'data-count="hypoglycaemia_level_2">1<', html) and "2 级低血糖" in html
    page = client.get("/doctor/residents/SUGAR", params={"days": 14}).text
    assert re.search(
        r'data-context="fasting"><td>空腹 fasting</td><td class="num">3</td><td class="num">6.2</td>'
        r'<td class="num">67 %</td>',
        page,
    ), page
    assert re.search(r'data-figure="hypo">2 / 1 · 2.8 mmol/L', page)
    assert re.search(r'data-figure="glucose-variability">2.97 mmol/L · 49.4 %', page)
    heart = client.get("/doctor/residents/HEART/report", params={"days": 14}).text
    assert re.search(r'data-figure="weight-gain">2.3 kg', heart) and "阈值 threshold 88 %" in heart
    assert re.search(r'data-figure="weight-slope">\+0.94 kg/周', heart)
