"""Dates far outside any measurement, and consent: 4xx answers, never a 500; no consent, nothing shared."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.db.models import Resident
from tests.unit.trends.build import seed_cohort
from tests.unit.trends.site import make_client, sign_in

ROUTES = (
    "/api/v1/trends/residents/HIGH",
    "/api/v1/trends/residents/HIGH/fhir",
    "/api/v1/trends/residents/HIGH/readings.csv",
    "/doctor/residents/HIGH",
    "/doctor/residents/HIGH/report",
)


@pytest.fixture
def doctor(tmp_path: Path) -> Iterator[tuple[TestClient, object]]:
    client, sessions = make_client(f"sqlite:///{tmp_path}/edge.db")
    seed_cohort(sessions)
    sign_in(client, "doctor")
    yield client, sessions
    sessions.kw["bind"].dispose()


@pytest.mark.parametrize("until", ["9999-12-31", "0001-01-01", "0001-01-07"])
@pytest.mark.parametrize("route", ROUTES)
def test_a_date_out_of_range_is_a_422_not_a_500(doctor: tuple[TestClient, object], route: str, until: str) -> None:
    client, _ = doctor
    r = client.get(route, params={"until": until})
    assert r.status_code == 422, (route, until, r.status_code, r.text[:200])
    assert "until" in r.text


def test_a_resident_who_does_not_share_is_hidden_from_doctors(doctor: tuple[TestClient, object]) -> None:
    client, sessions = doctor
    with sessions() as s, s.begin():  # type: ignore[attr-defined]
        s.query(Resident).filter_by(code="HIGH").one().consent_sharing = False
    for route in ROUTES:
        assert client.get(route).status_code == 403, route
    assert "HIGH" not in [e["resident"] for e in client.get("/api/v1/trends/cohort").json()]
    assert "HIGH" not in client.get("/doctor").text
