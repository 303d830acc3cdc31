"""Activities, teams and notices through /api/v1: sign-ups, attendance, invitees, a notice on a helper's page."""

from __future__ import annotations

import pytest

from tests.integration.care.conftest import login

pytestmark = pytest.mark.integration


def _profile(client, who, code: str, interests: list[str], skills: list[str], district: str) -> None:
    r = client.put(
        f"/api/v1/residents/{code}/profile",
        headers=who,
        json={"name": f"老人 {code}", "interests": interests, "skills": skills, "district": district},
    )
    assert r.status_code == 200, r.text


def test_a_course_fills_up_attendance_is_counted_and_invitees_come_from_interests(client) -> None:
    coord, admin = login(client, "coord"), login(client, "admin")
    _profile(client, coord, "R001", ["京剧", "硬笔书法"], [], "西城区")
    _profile(client, coord, "R900", ["摄影"], ["书法"], "东城区")
    _profile(client, coord, "R901", ["合唱"], [], "东城区")
    r = client.post(
        "/api/v1/activities",
        headers=coord,
        json={
            "kind": "course",
            "title": "书法入门",
            "tags": ["书法"],
            "starts_at": "2027-03-05T06:00:00Z",
            "place": "交道口社区活动室",
            "district": "东城区",
            "capacity": 1,
        },
    )
    assert r.status_code == 201, r.text
    course = r.json()["id"]
    invite = client.get(f"/api/v1/activities/{course}/suggestions", headers=admin).json()
    # Both like calligraphy; the one in the course's district first; the singer is not asked.
    assert [(x["resident_code"], x["same_district"]) for x in invite] == [("R900", True), ("R001", False)]
    assert (
        client.post(f"/api/v1/activities/{course}/signups", headers=coord, json={"resident_code": "R900"}).status_code
        == 200
    )
    r = client.post(f"/api/v1/activities/{course}/signups", headers=coord, json={"resident_code": "R001"})
    assert r.status_code == 422 and "full" in r.json()["detail"]
    r = client.post(
        f"/api/v1/activities/{course}/signups", headers=coord, json={"resident_code": "R900", "attended": True}
    )
    assert (r.json()["signed_up"], r.json()["attended"]) == (1, 1)
    # A team residents join with the skill they bring.
    team = client.post(
        "/api/v1/activities", headers=coord, json={"kind": "team", "title": "银发宣讲团", "tags": ["宣讲"]}
    ).json()["id"]
    client.post(f"/api/v1/activities/{team}/signups", headers=coord, json={"resident_code": "R001", "role": "京剧"})
    listed = {a["title"]: a for a in client.get("/api/v1/activities", headers=admin).json()}
    assert listed["银发宣讲团"]["signed_up"] == 1 and listed["书法入门"]["attended"] == 1
    assert (
        client.post(
            "/api/v1/activities", headers=login(client, "duty"), json={"kind": "talk", "title": "x"}
        ).status_code
        == 403
    )


def test_a_notice_to_a_district_reaches_only_helpers_with_residents_there(client, services) -> None:
    coord, admin = login(client, "coord"), login(client, "admin")
    _profile(client, coord, "R001", [], [], "西城区")
    r = client.post(
        "/api/v1/residents/R001/helpers",
        headers=coord,
        json={"helper_code": "H1", "name": "志愿者 陈静", "role": "volunteer", "channel": "visit"},
    )
    link = r.json()[0]["link"]
    for body in (
        {
            "title": "西城区防诈骗讲座",
            "body": "周五下午两点，德胜社区活动室",
            "audience": "district",
            "audience_value": "西城区",
        },
        {"title": "东城区停水通知", "body": "周六上午停水", "audience": "district", "audience_value": "东城区"},
        {"title": "春节慰问", "body": "全体老人", "audience": "all"},
    ):
        assert client.post("/api/v1/notices", headers=coord, json=body).status_code == 201
    assert (
        client.post(
            "/api/v1/notices", headers=coord, json={"title": "x", "body": "y", "audience": "district"}
        ).status_code
        == 422
    )
    assert [n["title"] for n in client.get("/api/v1/notices", headers=admin).json()] == [
        "春节慰问",
        "东城区停水通知",
        "西城区防诈骗讲座",
    ]
    client.cookies.clear()
    page = client.get(link.replace(services.settings.base_url, "")).text
    assert "西城区防诈骗讲座" in page and "春节慰问" in page and "东城区停水通知" not in page
