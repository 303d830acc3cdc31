"""The doctor pages as a doctor sees them: sign-in, cohort order, the resident's chart, figures and report."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.db.models import Alarm, Resident
from server.trends.series import MORNING, zone
from server.trends.summary import Period
from server.web.doctor_chart import AlarmMark, bp_chart
from tests.unit.trends.build import at, dn, seed_cohort, series
from tests.unit.trends.site import make_client, sign_in

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def pages(tmp_path: Path) -> Iterator[TestClient]:
    client, sessions = make_client(f"sqlite:///{tmp_path}/pages.db")
    seed_cohort(sessions)
    with sessions() as s, s.begin():
        rise = s.query(Resident).filter_by(code="RISE").one()
        rise.conditions, rise.medication = ["高血压"], ["氨氯地平 5 mg"]
        s.add(
            Alarm(
                resident_id=rise.id,
                gateway_id="gw-rise",
                type="sos",
                severity="critical",
                status="resolved",
                raised_at=at(10, "15:30").astimezone(zone("UTC")),
                outcome="false_alarm",
            )
        )
    yield client
    sessions.kw["bind"].dispose()


def chart_of(html: str) -> ET.Element:
    """The inline SVG of a page, parsed."""
    m = re.search(r"<svg class=\"bp-chart\".*?</svg>", html, re.S)
    assert m, "the page has no chart"
    return ET.fromstring(m.group(0))


def test_strangers_are_sent_to_sign_in_and_the_desk_is_refused(pages: TestClient) -> None:
    r = pages.get("/doctor", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/login?next=/doctor"
    sign_in(pages, "staff")
    assert pages.get("/doctor/residents/OK").status_code == 403


def test_cohort_page_lists_residents_by_risk(pages: TestClient) -> None:
    sign_in(pages, "doctor")
    html = pages.get("/doctor").text
    assert re.findall(r'data-resident="(\w+)"', html) == ["HIGH", "RISE", "GONE", "OK"]
    assert re.search(r'data-count="not_measuring">1<', html)
    assert re.search(r'data-count="above_target_2_weeks">1<', html)
    assert 'href="/doctor/residents/RISE?threshold=135/85"' in html


def test_resident_page_shows_chart_figures_and_alarms(pages: TestClient) -> None:
    sign_in(pages, "doctor")
    r = pages.get("/doctor/residents/RISE", params={"days": 14})
    assert r.status_code == 200
    html = r.text
    svg = chart_of(html)
    morning = svg.findall(f".//{SVG}circle[@class='systolic am']")
    evening = svg.findall(f".//{SVG}circle[@class='systolic pm']")
    assert len(morning) == len(evening) == 28  # 14 days, two each morning and evening
    assert len(svg.findall(f".//{SVG}line[@class='alarm']")) == 1
    assert "2026-03-12 15:30 sos (resolved)" in html
    assert re.search(r'data-figure="home">137\.0/84\.0 mmHg, 24 次', html)
    assert "氨氯地平 5 mg" in html and "连续两周高于目标" not in html and "周均收缩压升高 ≥10" in html
    assert 'href="/api/v1/trends/residents/RISE/fhir?days=14&amp;threshold=135/85"' in html


def test_printable_report_has_no_navigation_and_print_styles(pages: TestClient) -> None:
    sign_in(pages, "doctor")
    html = pages.get("/doctor/residents/HIGH/report", params={"days": 14}).text
    assert 'class="report"' in html and "data-print" in html and '<script src="/static/print.js"' in html
    assert "window.print()" in pages.get("/static/print.js").text
    assert "nav" not in re.sub(r"<svg.*?</svg>", "", html, flags=re.S).split("<main>")[1].split("<section")[0]
    css = pages.get("/doctor/doctor.css")
    assert css.headers["content-type"].startswith("text/css") and "@media print" in css.text


def test_chart_places_readings_and_target_where_they_belong() -> None:
    s = series([(0, "07:00", 140, 90), (0, "21:00", 120, 80), (1, "14:00", 160, 100)])
    svg = ET.fromstring(
        bp_chart(
            s,
            Period(dn(0), dn(1)),
            (135, 85),
            zone("Asia/Shanghai"),
            [AlarmMark(at(1, "10:00"), "fall"), AlarmMark(at(5, "10:00"), "outside")],
        )
    )
    assert [c.get("class") for c in svg.findall(f"{SVG}circle")[:4] if "pulse" not in c.get("class", "")] == [
        "systolic am",
        "diastolic am",
        "systolic pm",
    ]
    assert len(svg.findall(f"{SVG}rect[@class='systolic other']")) == 1
    target = svg.find(f"{SVG}line[@class='target systolic']")
    grid_140 = next(t for t in svg.findall(f"{SVG}text") if t.text == "140")
    # 135 sits a quarter of a 20 mmHg grid step below 140 (axis labels are drawn 4 px under their line)
    assert float(target.get("y1")) > float(grid_140.get("y")) - 4
    assert len(svg.findall(f"{SVG}line[@class='alarm']")) == 1  # the alarm outside the period is not drawn
    assert int(s.session[0]) == MORNING


def test_a_year_on_the_chart_has_one_readable_label_per_month() -> None:
    s = series([(d, "07:00", 140, 90) for d in range(0, 365, 3)])
    svg = ET.fromstring(bp_chart(s, Period(dn(0), dn(364)), (135, 85), zone("Asia/Shanghai")))
    below = [t for t in svg.findall(f"{SVG}text") if t.get("y") == str(360 - 10)]
    labels = [t.text for t in below]
    assert 12 <= len(labels) <= 13, labels
    assert re.fullmatch(r"\d{4}-\d{2}", labels[0]) and all(re.fullmatch(r"\d{4}-\d{2}", x) for x in labels)
    xs = [float(t.get("x")) for t in below]
    # A "2026-03" label is ~50 px wide at the chart's size: neighbours must not overlap.
    assert min(b - a for a, b in itertools.pairwise(xs)) > 60


def test_doctor_pages_switch_language_and_keep_it(pages: TestClient) -> None:
    sign_in(pages, "doctor")
    zh = pages.get("/doctor").text
    assert '<html lang="zh-CN">' in zh and "居民慢病风险列表" in zh and 'href="?lang=en"' in zh
    en = pages.get("/doctor", params={"lang": "en"}).text
    assert '<html lang="en">' in en and "Residents by chronic risk" in en and "居民慢病风险列表" not in en
    assert "Above target two weeks running" in en and "Sign out" in en
    # The choice is remembered: the resident page that follows is English too, codes in English words.
    page = pages.get("/doctor/residents/RISE", params={"days": 14}).text
    assert '<html lang="en">' in page and "Weekly means" in page and "False alarm" in page and "误报" not in page
    assert "Weekly rising" not in page and "Weekly systolic up ≥10" in page
    back = pages.get("/doctor/residents/RISE", params={"days": 14, "lang": "zh-CN"}).text
    assert "每周平均" in back and "误报" in back
