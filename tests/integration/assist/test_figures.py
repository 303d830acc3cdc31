"""The decision figures on a fixed data set, each number computed by hand (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from server.assist import figures
from server.care.context import care_config
from server.db.models import Alarm, Resident
from server.db.models_assist import Evaluation, ServiceRequest
from server.db.models_care import Contact, ResidentProfile
from tests.integration.care.conftest import T0

pytestmark = pytest.mark.integration
H = timedelta(hours=1)
D = timedelta(days=1)


def _fixed_data(s) -> None:
    r1 = s.scalars(select(Resident).where(Resident.code == "R001")).one()
    r1.care_categories = ["高龄", "空巢"]
    r2 = Resident(code="R002", name="二", care_categories=["空巢"])
    r3 = Resident(code="R003", name="三", care_categories=["高龄"])
    r4 = Resident(code="R004", name="四", care_categories=[])
    s.add_all([r2, r3, r4])
    s.flush()
    s.add_all(
        [
            ResidentProfile(resident_id=r1.id, birth_date=date(1940, 5, 1), district="东城区", grade="moderate"),
            ResidentProfile(resident_id=r2.id, birth_date=date(1950, 3, 2), district="东城区", grade="intact"),
            ResidentProfile(resident_id=r3.id, birth_date=date(1930, 1, 1), district="西城区"),
        ]
    )

    def req(
        category: str, created: datetime, status: str, accepted: timedelta | None = None, done: timedelta | None = None
    ) -> ServiceRequest:
        row = ServiceRequest(
            resident_id=r1.id,
            category=category,
            channel="staff",
            created_by="t",
            status=status,
            created_at=created,
            accepted_at=created + accepted if accepted else None,
            done_at=created + done if done else None,
            cancelled_at=created + H if status == "cancelled" else None,
        )
        s.add(row)
        return row

    q1 = req("meals", T0 - 10 * D, "done", H, 20 * H)  # within its 24 h
    q2 = req("meals", T0 - 5 * D, "done", 3 * H, 30 * H)  # late
    req("meals", T0 - 2 * D, "assigned", 2 * H)  # open, past 24 h: overdue
    req("repair", T0 - H, "new")  # open, within 48 h
    req("repair", T0 - 40 * D, "cancelled")

    def alarm(at, outcome):
        return Alarm(
            resident_id=r1.id,
            gateway_id="gw-r001",
            type="sos",
            severity="emergency",
            status="resolved" if outcome else "acknowledged",
            raised_at=at,
            updated_at=at,
            outcome=outcome,
            resolved_at=at + H if outcome else None,
            acknowledged_by="duty",
        )

    a1 = alarm(T0 - 3 * D, "false_alarm")
    s.add_all(
        [
            a1,
            alarm(T0 - 20 * D, "helped_at_home"),
            alarm(T0 - 4 * D, "test_passed"),
            alarm(T0 - D, None),
            alarm(T0 - 35 * D, "false_alarm"),
        ]
    )
    s.flush()
    s.add_all(
        [
            Evaluation(request_id=q1.id, rater="resident", score=5, category="meals", at=T0, recorded_by="t"),
            Evaluation(request_id=q1.id, rater="family", score=4, category="meals", at=T0, recorded_by="t"),
            Evaluation(request_id=q2.id, rater="resident", score=2, category="meals", at=T0, recorded_by="t"),
            Evaluation(alarm_id=a1.id, rater="family", score=3, category="alarm", staff="duty", at=T0, recorded_by="t"),
        ]
    )
    s.add_all(
        [
            Contact(
                resident_id=r1.id, at=T0 - 5 * D, channel="phone", by="t", mood="good", health="stable", living="good"
            ),
            Contact(
                resident_id=r2.id, at=T0 - 40 * D, channel="phone", by="t", mood="good", health="stable", living="good"
            ),
        ]
    )


def test_every_chart_equals_the_hand_computed_figures(services) -> None:
    with services.sessions() as s, s.begin():
        _fixed_data(s)
    with services.sessions() as s:
        view = figures.overview(s, T0, {}, care_config(services.settings).intervals)
    rows = {c.key: c.rows for c in view.charts}
    # Ages on 2027-03-01: 86 (1940-05-01), 76 (1950-03-02, birthday tomorrow), 97, and one without a birth date.
    assert rows["age_band"] == [["<60", 0], ["60-69", 0], ["70-79", 1], ["80-89", 1], ["90+", 1], ["—", 1]]
    assert rows["category"] == [["高龄", 2], ["空巢", 2], ["失能", 0], ["重病", 0], ["特殊困难", 0], ["无 none", 1]]
    assert rows["grade"] == [["intact", 1], ["moderate", 1], ["—", 2]]
    assert rows["district"] == [["—", 1], ["东城区", 2], ["西城区", 1]]
    # Months in China Standard Time: 40 days ago is January, 10/5/2 days ago February, an hour ago March.
    assert rows["requests_by_month"] == [["2027-01", "repair", 1], ["2027-02", "meals", 3], ["2027-03", "repair", 1]]
    # Unmet = open past the SLA + cancelled.
    assert rows["unmet"] == [["meals", 3, 2, 1, 1, 0, 1], ["repair", 2, 0, 1, 0, 1, 1]]
    # Meals: responses 1, 3, 2 h → median 2; completions 20, 30 h → median 25; one of two within 24 h.
    assert rows["sla"] == [["meals", 24, 2, 2.0, 25.0, 1, 0.5], ["repair", 48, 0, None, None, 0, None]]
    assert rows["satisfaction"] == [["alarm", 1, 3.0, 0], ["meals", 3, 3.67, 1]]
    assert rows["ratings_provider"] == [] and rows["ratings_staff"] == [["duty", 1, 3.0, 0]]
    # R001 reached 5 days ago (priority: 30 days); R002 40 days ago (missed); R003, R004 never.
    assert rows["coverage"][0] == ["all", 4, 1, 0.25]
    assert ["高龄", 2, 1, 0.5] in rows["coverage"] and ["空巢", 2, 1, 0.5] in rows["coverage"]
    # The test alarm is left out; 4 residents; the open alarm counts as an alarm but not as closed.
    assert rows["alarms"] == [["2027-01", 1, 25.0, 1, 1.0], ["2027-02", 3, 75.0, 1, 0.5]]
