"""A notice reaches the addressed residents' caregivers through the notification queue, and the notice's page
counts what was sent, what failed and whom nobody could be told (SQLite and PostgreSQL, a real HTTP receiver)."""

from __future__ import annotations

import pytest
import yaml

from server.notify import Notifier
from server.provision import import_file
from tests.integration.care.conftest import login

pytestmark = pytest.mark.integration
DEAD = "json://nephew:s3cret-pw@127.0.0.1:9/caregiver/C103"  # nothing listens on port 9: this channel fails


def _homes(services, tmp_path, receiver) -> None:
    doc = {
        "caregivers": [
            {"code": "C101", "name": "女儿 刘芳", "notify": [receiver.url("/caregiver/C101")]},
            {"code": "C102", "name": "儿子 赵强", "notify": [receiver.url("/caregiver/C102")]},
            {"code": "C103", "name": "侄子 孙明", "notify": [DEAD]},
            {"code": "C104", "name": "结对干部 何军", "notify": [receiver.url("/caregiver/C104")]},
        ],
        "residents": [
            {"code": "R101", "name": "刘桂兰", "caregivers": ["C101", "C103"]},
            {"code": "R102", "name": "赵永福", "caregivers": ["C102"]},
            {"code": "R103", "name": "孙淑珍", "caregivers": []},
            {"code": "R104", "name": "何玉梅", "caregivers": ["C104", "C101"]},
        ],
    }
    path = tmp_path / "homes.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with services.sessions() as s, s.begin():
        import_file(s, path)


def test_a_district_notice_reaches_its_caregivers_only_and_a_failed_channel_is_counted(
    client, services, clock, receiver, tmp_path
) -> None:
    _homes(services, tmp_path, receiver)
    coord = login(client, "coord")
    for code, name, district in (
        ("R101", "刘桂兰", "西城区"),
        ("R102", "赵永福", "东城区"),
        ("R103", "孙淑珍", "西城区"),
        ("R104", "何玉梅", "西城区"),
        ("R001", "王秀英", "东城区"),
    ):
        r = client.put(f"/api/v1/residents/{code}/profile", headers=coord, json={"name": name, "district": district})
        assert r.status_code == 200, r.text
    r = client.post(
        "/api/v1/notices",
        headers=coord,
        json={
            "title": "西城区防诈骗讲座",
            "body": "周五下午两点，德胜社区活动室",
            "audience": "district",
            "audience_value": "西城区",
        },
    )
    assert r.status_code == 201, r.text
    notice = r.json()["id"]

    notifier = Notifier(services.sessions, services.signer, "http://anxin.test", workers=1, backoff_s=(5.0,))
    assert notifier.tick(clock()) == 3  # C101 once (two residents), C103, C104
    got = receiver.wait_for(2, timeout=30)
    assert sorted(g.path for g in got) == ["/caregiver/C101", "/caregiver/C104"]
    assert all("西城区防诈骗讲座" in g.doc["title"] and "德胜社区活动室" in g.doc["message"] for g in got)

    summary = client.get(f"/api/v1/notices/{notice}/deliveries", headers=coord).json()
    assert (summary["sent"], summary["failed"], summary["pending"], summary["unreached"]) == (2, 0, 1, 1)
    clock.advance(seconds=10)  # the dead channel's retry is due, and fails for good
    assert notifier.tick(clock()) == 1
    summary = client.get(f"/api/v1/notices/{notice}/deliveries", headers=coord).json()
    assert (summary["sent"], summary["failed"], summary["pending"], summary["unreached"]) == (2, 1, 0, 1)
    failed = [d for d in summary["deliveries"] if d["status"] == "failed"]
    assert [(d["recipient"], d["attempts"]) for d in failed] == [("侄子 孙明", 2)] and failed[0]["error"]
    assert summary["unreached_residents"] == ["R103 孙淑珍"]
    assert "s3cret-pw" not in str(summary) and "s3cret-pw" not in client.get(f"/console/notices/{notice}").text

    page = client.get(f"/console/notices/{notice}").text
    assert 'id="count-sent">2<' in page and 'id="count-failed">1<' in page and 'id="count-unreached">1<' in page
    assert "侄子 孙明" in page and "R103 孙淑珍" in page and "帮扶人没有推送渠道" in page
    clock.advance(minutes=5)
    assert notifier.tick(clock()) == 0
    assert len(receiver.wait_for(2, timeout=1)) == 2  # nobody in 东城区 was told, nor told twice


def test_a_notice_to_everyone_is_queued_for_each_caregiver_and_sent_to_be_read_aloud(client) -> None:
    coord = login(client, "coord")
    r = client.post(
        "/api/v1/notices", headers=coord, json={"title": "春节慰问", "body": "全体老人", "read_aloud": True}
    )
    notice = r.json()["id"]
    assert "gw-r001" in client.get(f"/console/notices/{notice}").text  # the say command went to R001's home
    summary = client.get(f"/api/v1/notices/{notice}/deliveries", headers=coord).json()
    assert summary["pending"] == 2 and summary["unreached"] == 0  # R001's caregivers C001, C002 are queued
    assert client.get("/api/v1/notices/999/deliveries", headers=coord).status_code == 404
    client.cookies.clear()
    assert client.get(f"/api/v1/notices/{notice}/deliveries").status_code == 401
