"""The care pages render for each role that may see them, refuse others, and the helper link is the only key."""

from __future__ import annotations

import re

import icalendar
import pytest

from tests.integration.care.conftest import PROFILE, login
from tests.unit.care.example import EXAMPLE

pytestmark = pytest.mark.integration


def _setup(client) -> str:
    coord = login(client, "coord")
    client.put("/api/v1/residents/R900/profile", json=PROFILE, headers=coord)
    client.post(
        "/api/v1/residents/R900/assessments",
        json={"reason": "first", "assessor": "陈静", "answers": EXAMPLE},
        headers=coord,
    )
    plans = client.post(
        "/api/v1/residents/R900/helpers",
        headers=coord,
        json={"helper_code": "H01", "name": "青年干部 小刘", "role": "young_cadre"},
    ).json()
    return plans[0]["link"].split("/h/", 1)[1]


def test_pages_render_for_a_coordinator_and_the_helper_link(client) -> None:
    token = _setup(client)
    for url in (
        "/console/residents",
        "/console/residents?category=失能&age=80-89",
        "/console/residents/R900",
        "/console/residents/R900/edit",
        "/console/residents/R900/assessment",
        "/console/care",
        "/console/residents/new",
        f"/h/{token}",
        f"/h/{token}/contact/R900",
    ):
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[:500])
    page = client.get("/console/residents/R900").text
    assert "失能" in page and "李秀英" in page
    assert "李秀英" in client.get(f"/h/{token}").text


def test_desk_staff_see_but_cannot_edit_and_a_doctored_link_opens_nothing(client) -> None:
    token = _setup(client)
    login(client, "duty")
    assert client.get("/console/residents/R900").status_code == 200
    assert client.get("/console/residents/R900/edit").status_code == 403
    assert client.post("/console/residents/R900/helpers", data={"helper_code": "H02"}).status_code == 403
    client.cookies.clear()
    assert client.get(f"/h/{token[:-2]}xx").status_code == 403
    assert client.get(f"/h/{token[:-2]}xx/calendar.ics").status_code == 403
    assert client.post(f"/h/{token[:-2]}xx/contact/R900", data={}).status_code == 403


def test_calendar_feed_parses_and_carries_the_weekly_rule_and_a_reminder(client) -> None:
    import datetime as dt

    token = _setup(client)
    r = client.get(f"/h/{token}/calendar.ics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.content)
    events = list(cal.walk("VEVENT"))
    assert len(events) == 1 and re.search("李秀英", str(events[0]["SUMMARY"]))
    assert events[0]["RRULE"]["FREQ"] == ["WEEKLY"]
    reminder = events[0].walk("VALARM")[0]  # the phone reminds the helper half an hour before
    assert reminder["ACTION"] == "DISPLAY" and reminder["TRIGGER"].dt == -dt.timedelta(minutes=30)


def test_calendar_expands_to_month_ends_in_china_standard_time(client, clock) -> None:
    import datetime as dt

    import recurring_ical_events

    coord = login(client, "coord")
    client.put("/api/v1/residents/R900/profile", json={**PROFILE, "living_arrangement": "children"}, headers=coord)
    plans = client.post(
        "/api/v1/residents/R900/helpers",
        headers=coord,
        json={"helper_code": "H02", "name": "社工 孙敏", "role": "community_worker", "starts_on": "2027-01-31"},
    ).json()
    assert plans[0]["rrule"] == "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=-1"  # 高龄 only: monthly, kept at month end
    token = plans[0]["link"].split("/h/", 1)[1]
    cal = icalendar.Calendar.from_ical(client.get(f"/h/{token}/calendar.ics").content)
    starts = [e["DTSTART"].dt for e in recurring_ical_events.of(cal).between(dt.date(2027, 1, 1), dt.date(2027, 6, 1))]
    assert [(s.date().isoformat(), s.strftime("%H:%M"), s.utcoffset()) for s in starts] == [
        (d, "09:30", dt.timedelta(hours=8))
        for d in ("2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31")
    ]


def test_a_refused_contact_comes_back_with_everything_the_helper_typed(client) -> None:
    token = _setup(client)
    client.cookies.clear()
    r = client.post(
        f"/h/{token}/contact/R900",
        data={
            "at": "2030-01-01T10:00",
            "channel": "visit",
            "mood": "low",
            "health": "worse",
            "living": "poor",
            "hazards": ["gas", "lock"],
            "needs": "需要修门锁",
            "note": "煤气味",
        },
    )
    assert r.status_code == 422 and "future" in r.text
    for kept in (
        'value="2030-01-01T10:00"',
        "需要修门锁",
        "煤气味",
        'id="ct-hz-gas" name="hazards" value="gas" checked',
        'id="ct-mood-low" name="mood" value="low" required checked',
    ):
        assert kept in r.text, kept
    assert client.get(f"/h/{token}").status_code == 200


def test_unknown_residents_and_other_peoples_residents_are_refused_not_errors(client) -> None:
    token = _setup(client)
    assert client.get("/console/residents/NOPE").status_code == 404
    assert client.get("/console/residents/R900/assessments/999").status_code == 404
    assert client.get(f"/h/{token}/contact/NOPE").status_code == 403
    assert client.get(f"/h/{token}/contact/R001").status_code == 403  # R001 is not paired with this helper
