"""The services pages over a real database: the family's link, the provider's link, the desk, the dashboard's XLSX."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from server.assist.context import assist_config
from tests.integration.care.conftest import login

pytestmark = pytest.mark.integration


def _setup(client) -> tuple[str, str]:
    client.follow_redirects = False  # the forms answer 303: the test looks where they send the browser
    coord = login(client, "coord")
    client.put("/api/v1/residents/R001/profile", json={"name": "王淑芬", "district": "东城区"}, headers=coord)
    for code, district in (("P-EAST", "东城区"), ("P-WEST", "西城区")):
        r = client.post(
            "/api/v1/providers",
            json={
                "code": code,
                "name": f"家政 {code}",
                "kind": "organisation",
                "categories": ["cleaning"],
                "district": district,
            },
            headers=coord,
        )
        assert r.status_code == 201, r.text
    family = client.get("/api/v1/residents/R001/family-link", headers=coord).json()["link"]
    links = {p["code"]: p["link"] for p in client.get("/api/v1/providers", headers=coord).json()}
    return family.split("/f/")[1], links["P-EAST"].split("/p/")[1]


def test_family_asks_provider_works_family_rates_and_the_follow_up_opens(client, services, clock) -> None:
    family, east = _setup(client)
    client.cookies.clear()  # the link pages need no account
    r = client.post(
        f"/f/{family}/requests",
        data={
            "category": "cleaning",
            "urgency": "normal",
            "preferred_at": "2027-03-02T09:30",
            "description": "厨房大扫除",
        },
    )
    assert r.status_code == 303 and "done=sent" in r.headers["location"]
    page = client.get(f"/f/{family}").text
    assert "已提交" not in page and "新登记" in page  # the list shows the request as new
    coord = login(client, "coord")
    req = client.get("/api/v1/requests", headers=coord).json()[0]
    assert req["channel"] == "family" and req["preferred_at"].startswith("2027-03-02T01:30")  # 09:30 CST
    client.post(
        f"/api/v1/requests/{req['id']}/steps", json={"step": "assigned", "provider_code": "P-EAST"}, headers=coord
    )
    client.cookies.clear()
    # Another provider's link cannot touch the job; a forged link opens nothing.
    west = assist_config(services.settings).links.provider(2)
    r = client.post(f"/p/{west}/jobs/{req['id']}", data={"step": "on_the_way"})
    assert r.status_code == 303 and "error=" in r.headers["location"]
    assert client.get(f"/p/{east}x").status_code == 403 and client.get(f"/f/{east}").status_code == 403
    assert "厨房大扫除" in client.get(f"/p/{east}").text
    for step in ("on_the_way", "arrived", "done"):
        clock.advance(minutes=20)
        r = client.post(f"/p/{east}/jobs/{req['id']}", data={"step": step, "note": "已打扫干净"})
        assert r.status_code == 303 and "error" not in r.headers["location"], r.headers["location"]
    assert "暂无服务单" in client.get(f"/p/{east}").text
    page = client.get(f"/f/{family}").text
    assert "请为本次服务打分" in page
    r = client.post(f"/f/{family}/rate", data={"request_id": str(req["id"]), "score": "2", "comment": "地没拖干净"})
    assert r.status_code == 303 and "done=rated" in r.headers["location"]
    assert "请为本次服务打分" not in client.get(f"/f/{family}").text  # rated once
    r = client.post(f"/f/{family}/rate", data={"request_id": str(req["id"]), "score": "1"})  # and only once
    assert "error=" in r.headers["location"] and "rated%20this%20already" in r.headers["location"]
    login(client, "supervisor")
    desk = client.get("/console/requests").text
    assert "地没拖干净" in desk and "回访完毕" in desk
    login(client, "duty")
    assert "回访完毕" not in client.get("/console/requests").text  # the desk does not close follow-ups


def test_the_desk_takes_a_request_and_assigns_the_suggested_provider(client, services) -> None:
    _setup(client)
    login(client, "coord")
    page = client.get("/console/requests").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post(
        "/console/requests",
        data={
            "csrf_token": token,
            "resident_code": "R001",
            "category": "cleaning",
            "urgency": "urgent",
            "description": "电话：家里漏水后需清理",
        },
    )
    assert r.status_code == 303, r.text
    detail = client.get(r.headers["location"]).text
    assert re.search(r'value="P-EAST" checked', detail)  # the same district comes first and is pre-selected
    rid = r.headers["location"].split("/")[-1].split("?")[0]
    r = client.post(
        f"/console/requests/{rid}/step", data={"csrf_token": token, "step": "assigned", "provider_code": "P-WEST"}
    )
    assert "error" not in r.headers["location"]
    assert "已派单" in client.get(f"/console/requests/{rid}").text
    # A bad form comes back with the reason and keeps nothing.
    r = client.post("/console/requests", data={"csrf_token": token, "resident_code": "R001", "category": "spa"})
    assert "error=" in r.headers["location"]


def test_dashboard_shows_every_chart_and_each_downloads_as_xlsx(client) -> None:
    _setup(client)
    login(client, "admin")
    page = client.get("/console/dashboard")
    assert page.status_code == 200 and "<progress" in page.text and 'style="' not in page.text
    overview = client.get("/api/v1/figures/overview").json()["charts"]
    for key, chart in overview.items():
        r = client.get(f"/console/dashboard/{key}.xlsx")
        assert r.status_code == 200
        ws = load_workbook(io.BytesIO(r.content)).active
        values = [list(row) for row in ws.iter_rows(min_row=2, values_only=True)]
        assert values[0] == chart["columns"] and values[1:] == chart["rows"], key
    assert client.get("/console/dashboard/nope.xlsx").status_code == 404
    login(client, "duty")
    assert client.get("/console/dashboard").status_code == 403


def test_the_helper_takes_the_residents_rating_on_their_phone_page(client, services) -> None:
    _setup(client)
    coord = login(client, "coord")
    link = client.post(
        "/api/v1/residents/R001/helpers",
        headers=coord,
        json={"helper_code": "H1", "name": "志愿者 陈静", "role": "volunteer", "channel": "visit"},
    ).json()[0]["link"]
    client.put("/api/v1/residents/R900/profile", json={"name": "别人"}, headers=coord)
    other = client.post(
        "/api/v1/residents/R900/helpers",
        headers=coord,
        json={"helper_code": "H2", "name": "志愿者 王五", "role": "volunteer", "channel": "visit"},
    ).json()[0]["link"]
    rid = client.post("/api/v1/requests", headers=coord, json={"resident_code": "R001", "category": "cleaning"}).json()[
        "id"
    ]
    for step in ({"step": "assigned", "provider_code": "P-EAST"}, {"step": "on_the_way"}, {"step": "done"}):
        client.post(f"/api/v1/requests/{rid}/steps", json=step, headers=coord)
    mine, theirs = (x.replace(services.settings.base_url, "") for x in (link, other))
    client.cookies.clear()
    assert "请王淑芬为刚完成的服务打分" in client.get(mine).text
    assert "打分" not in client.get(theirs).text
    r = client.post(f"{theirs}/rate", data={"request_id": str(rid), "score": "1"})  # not their resident
    assert "rate_error=" in r.headers["location"]
    r = client.post(f"{mine}/rate", data={"request_id": str(rid), "score": "1", "comment": "没打扫完就走了"})
    assert r.headers["location"].endswith("done=rated")
    assert "打分" not in client.get(mine).text  # rated once
    opened = client.get("/api/v1/evaluations?follow_up=open", headers=login(client, "admin")).json()
    assert [(e["rater"], e["score"], e["recorded_by"]) for e in opened] == [("resident", 1, "helper:H1")]


def test_the_coordinator_announces_a_course_signs_up_an_invitee_marks_attendance_and_publishes(client) -> None:
    client.follow_redirects = False
    coord = login(client, "coord")
    client.put("/api/v1/residents/R001/profile", json={"name": "王淑芬", "interests": ["书法"]}, headers=coord)
    page = client.get("/console/activities").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post(
        "/console/activities",
        data={
            "csrf_token": token,
            "title": "书法班",
            "kind": "course",
            "tags": "书法，国画",
            "starts_at": "2027-03-02T14:00",
            "capacity": "12",
        },
    )
    assert "done=saved" in r.headers["location"]
    aid = client.get("/api/v1/activities", headers=coord).json()[0]["id"]
    detail = client.get(f"/console/activities/{aid}").text
    assert "报名 — 王淑芬" in detail
    client.post(f"/console/activities/{aid}/signups", data={"csrf_token": token, "resident_code": "R001"})
    client.post(
        f"/console/activities/{aid}/signups", data={"csrf_token": token, "resident_code": "R001", "attended": "yes"}
    )
    listed = client.get("/api/v1/activities", headers=coord).json()[0]
    assert (listed["tags"], listed["signed_up"], listed["attended"]) == (["书法", "国画"], 1, 1)
    assert listed["starts_at"].startswith("2027-03-02T06:00")
    r = client.post(
        "/console/notices",
        data={
            "csrf_token": token,
            "title": "停水",
            "body": "周六上午",
            "audience": "district",
            "value_district": "东城区",
        },
    )
    assert "done=saved" in r.headers["location"]
    r = client.post(
        "/console/notices",
        data={"csrf_token": token, "title": "x", "body": "y", "audience": "district", "value_district": ""},
    )
    assert "error=" in r.headers["location"]  # a district notice needs the district
    assert [(n["audience"], n["audience_value"]) for n in client.get("/api/v1/notices", headers=coord).json()] == [
        ("district", "东城区")
    ]
    login(client, "duty")
    assert 'action="/console/notices"' not in client.get("/console/activities").text  # the desk reads, does not publish
