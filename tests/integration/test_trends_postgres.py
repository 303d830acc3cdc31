"""The trends queries on PostgreSQL: JSON extraction and time zones behave as on SQLite."""

from __future__ import annotations

import pytest

from tests.unit.trends.build import seed_cohort
from tests.unit.trends.site import make_client, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def test_cohort_summary_and_exports_on_postgres(postgres_url: str) -> None:
    client, sessions = make_client(postgres_url)
    try:
        seed_cohort(sessions)
        sign_in(client, "doctor")
        cohort = client.get("/api/v1/trends/cohort").json()
        assert [r["resident"] for r in cohort] == ["HIGH", "RISE", "GONE", "OK"]
        body = client.get("/api/v1/trends/residents/RISE", params={"days": 14}).json()
        assert [w["systolic"] for w in body["weeks"]] == [125.0, 137.0]
        assert body["home_average"]["readings"] == 24
        csv_lines = client.get("/api/v1/trends/residents/HIGH/readings.csv", params={"days": 14}).text.splitlines()
        assert len(csv_lines) == 1 + 56
        assert csv_lines[1].split(",")[2] == "2026-03-02T07:00:00+08:00"
    finally:
        sessions.kw["bind"].dispose()
