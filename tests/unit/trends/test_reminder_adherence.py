"""Reminder adherence as the doctor sees it: on the resident's page and as FHIR MedicationAdministrations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.db.models import Resident
from server.db.models_reminders import ReminderOutcome
from tests.unit.trends.build import at, seed_cohort
from tests.unit.trends.site import make_client, sign_in

PILL = "苯磺酸氨氯地平 5 毫克 一片"


@pytest.fixture
def pages(tmp_path: Path) -> Iterator[TestClient]:
    client, sessions = make_client(f"sqlite:///{tmp_path}/adherence.db")
    seed_cohort(sessions)
    with sessions() as s, s.begin():
        rise = s.query(Resident).filter_by(code="RISE").one()
        for seq, (day, outcome, by) in enumerate(
            [(8, "confirmed", "button"), (9, "confirmed", "button"), (10, "missed", None), (11, "confirmed", "button")],
            start=1,
        ):
            s.add(
                ReminderOutcome(
                    resident_id=rise.id,
                    gateway_id="gw-rise",
                    seq=seq,
                    reminder_key="amlodipine",
                    kind="medication",
                    what=PILL,
                    due_at=at(day, "20:00"),
                    outcome=outcome,
                    confirmed_by=by,
                    said=1 if by else 3,
                )
            )
        s.add(
            ReminderOutcome(
                resident_id=rise.id,
                gateway_id="gw-rise",
                seq=9,
                reminder_key="bp-morning",
                kind="measurement",
                what="早上的血压",
                due_at=at(12, "08:00"),
                outcome="confirmed",
                confirmed_by="measurement",
                said=1,
            )
        )
    sign_in(client, "doctor")
    yield client
    sessions.kw["bind"].dispose()


def test_the_resident_page_shows_how_well_reminders_are_kept(pages: TestClient) -> None:
    html = pages.get("/doctor/residents/RISE", params={"days": 14}).text
    row = html.split('data-reminder="amlodipine"')[1].split("</tr>")[0]
    assert PILL in row and "<td>3</td><td>1</td><td>75 %</td>" in row
    assert 'data-reminder="bp-morning"' in html


def test_fhir_export_has_a_medication_administration_per_medication_reminder(pages: TestClient) -> None:
    from fhir.resources.R4B.bundle import Bundle

    r = pages.get("/api/v1/trends/residents/RISE/fhir", params={"days": 14})
    bundle = Bundle.model_validate_json(r.content)
    given = [e.resource for e in bundle.entry if e.resource.__resource_type__ == "MedicationAdministration"]
    assert [(g.status, g.medicationCodeableConcept.text) for g in given] == [
        ("completed", PILL),
        ("completed", PILL),
        ("not-done", PILL),
        ("completed", PILL),
    ]
    assert given[2].statusReason[0].text == "no confirmation from the resident"
    assert {g.subject.reference for g in given} == {bundle.entry[0].fullUrl}


def test_adherence_api_counts_per_reminder(pages: TestClient) -> None:
    rid = next(r["id"] for r in pages.get("/api/v1/residents").json() if r["code"] == "RISE")
    rows = {r["id"]: r for r in pages.get(f"/api/v1/residents/{rid}/adherence", params={"days": 14}).json()}
    assert (rows["amlodipine"]["confirmed"], rows["amlodipine"]["missed"]) == (3, 1)
    assert rows["amlodipine"]["rate"] == pytest.approx(0.75)
    assert (rows["bp-morning"]["confirmed"], rows["bp-morning"]["missed"]) == (1, 0)
