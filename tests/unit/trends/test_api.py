"""The trends API on a real SQLite file: cohort order, summary, FHIR R4 (validated) and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.db.models import Resident
from tests.unit.trends.build import seed_cohort
from tests.unit.trends.site import make_client, sign_in


@pytest.fixture
def anonymous(tmp_path: Path) -> Iterator[TestClient]:
    c, sessions = make_client(f"sqlite:///{tmp_path}/trends.db")
    seed_cohort(sessions)
    yield c
    sessions.kw["bind"].dispose()


@pytest.fixture
def client(anonymous: TestClient) -> TestClient:
    """Signed in as a doctor."""
    sign_in(anonymous, "doctor")
    return anonymous


def test_only_doctors_and_administrators_see_trends(anonymous: TestClient) -> None:
    assert anonymous.get("/api/v1/trends/cohort").status_code == 401
    sign_in(anonymous, "staff")
    assert anonymous.get("/api/v1/trends/cohort").status_code == 403
    assert anonymous.get("/api/v1/trends/residents/OK/fhir").status_code == 403
    sign_in(anonymous, "admin")
    assert anonymous.get("/api/v1/trends/cohort").status_code == 200


def test_cohort_is_sorted_by_risk(client: TestClient) -> None:
    rows = client.get("/api/v1/trends/cohort").json()
    assert [r["resident"] for r in rows] == ["HIGH", "RISE", "GONE", "OK"]
    by = {r["resident"]: r for r in rows}
    assert by["HIGH"]["warnings"] == ["above_target_2_weeks"]
    assert by["RISE"]["warnings"] == ["rising", "above_target"]
    assert by["GONE"]["warnings"] == ["not_measuring"]
    assert by["OK"]["warnings"] == [] and by["OK"]["share_above_target"] == 0.0
    assert by["GONE"]["last_reading"].startswith("2026-03-05T13:02")  # 21:02 in Beijing on day 3


def test_resident_summary_has_the_guideline_figures(client: TestClient) -> None:
    body = client.get("/api/v1/trends/residents/RISE", params={"days": 14}).json()
    assert (body["first_day"], body["last_day"]) == ("2026-03-02", "2026-03-15")
    home = body["home_average"]  # days 9..13 of the 137/84 week: 6 days x 4 readings
    assert (home["first_day_excluded"], home["readings"], home["systolic"]) == ("2026-03-09", 24, 137.0)
    assert home["hypertensive"] is True
    assert [w["systolic"] for w in body["weeks"]] == [125.0, 137.0]
    assert body["slope_systolic"]["per_week"] > 0
    assert body["flag_counts"]["irregular_pulse"] == 1
    assert body["missed_days"] == 0


def test_threshold_and_period_are_validated(client: TestClient) -> None:
    assert client.get("/api/v1/trends/residents/OK", params={"threshold": "140/90"}).status_code == 422
    assert client.get("/api/v1/trends/residents/OK", params={"days": 3}).status_code == 422
    assert client.get("/api/v1/trends/residents/NOBODY").status_code == 404
    assert client.get("/api/v1/trends/residents/OK", params={"threshold": "130/80"}).json()["home_average"][
        "threshold"
    ] == {"systolic": 130.0, "diastolic": 80.0}


def test_a_resident_with_an_unknown_time_zone_gets_a_clear_error(client: TestClient, tmp_path: Path) -> None:
    _, sessions = make_client(f"sqlite:///{tmp_path}/trends.db")
    with sessions() as s, s.begin():
        s.add(Resident(code="MARS", name="x", timezone="Mars/Olympus", consent=True, consent_sharing=True))
    r = client.get("/api/v1/trends/residents/MARS")
    assert r.status_code == 422 and "Mars/Olympus" in r.json()["detail"]


def test_fhir_bundle_is_valid_r4(client: TestClient) -> None:
    from fhir.resources.R4B.bundle import Bundle

    r = client.get("/api/v1/trends/residents/RISE/fhir", params={"days": 14})
    assert r.headers["content-type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate_json(r.content)
    resources = [e.resource for e in bundle.entry]
    assert resources[0].__resource_type__ == "Patient"
    bp = [o for o in resources[1:] if o.code.coding[0].code == "85354-9"]
    hr = [o for o in resources[1:] if o.code.coding[0].code == "8867-4"]
    assert len(bp) == len(hr) == 56
    first = bp[0]
    assert first.category[0].coding[0].code == "vital-signs"
    comps = {c.code.coding[0].code: c.valueQuantity for c in first.component}
    assert (comps["8480-6"].value, comps["8480-6"].code, comps["8480-6"].system) == (
        125,
        "mm[Hg]",
        "http://unitsofmeasure.org",
    )
    assert comps["8462-4"].value == 80
    assert (hr[0].valueQuantity.value, hr[0].valueQuantity.code) == (71, "/min")
    assert first.note[0].text == "monitor flags: irregular_pulse"
    assert {o.subject.reference for o in resources[1:]} == {bundle.entry[0].fullUrl}


def test_csv_has_one_row_per_reading_in_local_time(client: TestClient) -> None:
    r = client.get("/api/v1/trends/residents/HIGH/readings.csv", params={"days": 14})
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="HIGH-blood-pressure.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 56
    assert rows[0]["time_local"] == "2026-03-02T07:00:00+08:00"
    assert rows[0]["time_utc"] == "2026-03-01T23:00:00+00:00"
    assert [row["session"] for row in rows[:4]] == ["morning", "morning", "evening", "evening"]
    assert (rows[0]["systolic_mmhg"], rows[0]["flags"], rows[1]["flags"]) == ("145", "irregular_pulse", "")
