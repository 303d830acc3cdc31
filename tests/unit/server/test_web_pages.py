"""The pages over HTTP (no browser, no broker): sign-in, order of the queue, caregiver links, admin forms."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from server import alarms as desk
from server.db.models import Alarm, Caregiver, Pairing, Resident
from server.db.models_security import AuditEntry
from server.links import LinkClaim, LinkSigner
from server.web.views import alarm_queue
from tests.unit.server.pages import NOW, client, services, signed_in  # noqa: F401 - the site's fixtures


def raise_alarm(services, type_="sos", severity="emergency", minutes_ago=0, seq=1) -> int:
    at = NOW - timedelta(minutes=minutes_ago)
    with services.sessions() as s, s.begin():
        rid = s.scalars(select(Resident.id)).one()
        return desk.apply_gateway_alarm(s, "gw-1", seq, rid, {"type": type_, "severity": severity}, at, at).alarm.id


def test_pages_need_sign_in_and_a_forged_session_is_refused(client):
    r = client.get("/console/alarms/1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/login?next=/console/alarms/1"
    client.cookies.set("anxin_session", "WyJ4IiwieCIsImFkbWluIl0.forged.signature")
    assert client.get("/console", follow_redirects=False).status_code == 303
    assert client.get("/console/events", follow_redirects=False).status_code == 303
    r = client.post("/console/login", data={"username": "duty", "password": "wrong"}, follow_redirects=False)
    assert r.status_code == 401 and "用户名或密码不正确" in r.text


def test_roles_decide_what_a_signed_in_person_may_open(client):
    signed_in(client, "doc")
    assert client.get("/console").status_code == 403, "doctors do not work the alarm desk"
    signed_in(client, "duty")
    assert client.get("/console").status_code == 200
    assert client.get("/console/admin").status_code == 403
    assert client.post("/console/admin/residents", data={"code": "R9", "name": "x"}).status_code == 403
    signed_in(client, "boss")
    assert client.get("/console/admin").status_code == 200
    client.post("/console/logout")
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_login_redirects_only_inside_the_site(client):
    r = client.post(
        "/console/login",
        data={"username": "duty", "password": "pw-duty", "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/console"


def test_queue_puts_unanswered_emergencies_first_then_the_oldest(services, client):
    warning = raise_alarm(services, "bp_high", "warning", minutes_ago=30, seq=1)
    old_sos = raise_alarm(services, "sos", "emergency", minutes_ago=5, seq=2)
    fall = raise_alarm(services, "fall", "emergency", minutes_ago=1, seq=3)
    with services.sessions() as s, s.begin():
        desk.acknowledge(s, old_sos, "赵", "console", NOW)
    with services.sessions() as s:
        assert [a.id for a in alarm_queue(s)] == [fall, warning, old_sos]
    html = signed_in(client).get("/console/queue").text
    assert [int(i) for i in re.findall(r'data-alarm-id="(\d+)"', html)] == [fall, warning, old_sos]
    assert client.get("/console/alerting").json()["unanswered_emergencies"] == [fall]


def test_language_follows_the_query_then_the_cookie(client):
    signed_in(client)
    assert "报警队列" in client.get("/console").text
    assert "Alarm queue" in client.get("/console?lang=en").text
    assert "Alarm queue" in client.get("/console/tech").text, "the choice must stick"
    assert '<html lang="en">' in client.get("/console/figures").text


def test_console_ack_tells_the_home_and_acting_on_a_closed_alarm_says_why(services, client):
    alarm_id = raise_alarm(services)
    signed_in(client)
    r = client.post(f"/console/alarms/{alarm_id}/ack", follow_redirects=False)
    assert r.status_code == 303
    assert [c.cmd for _gw, c in services.sent] == ["alarm_acknowledged"]
    client.post(f"/console/alarms/{alarm_id}/resolve", data={"outcome": "false_alarm"})
    page = client.post(f"/console/alarms/{alarm_id}/resolve", data={"outcome": "false_alarm"}).text
    assert "already resolved" in page and 'role="alert"' in page
    assert client.get("/console/alarms/999").status_code == 404


def test_caregiver_link_is_the_key(services, client):
    alarm_id = raise_alarm(services)
    with services.sessions() as s:
        cg = s.scalars(select(Caregiver)).one()
    token = services.signer.sign(LinkClaim(alarm_id, cg.id))
    page = client.get(f"/c/{token}").text
    assert "王秀英" in page and "德胜门内大街" in page and "我这就过去" in page
    assert client.post(f"/c/{token}/ack", follow_redirects=False).status_code == 303
    after = client.get(f"/c/{token}").text
    assert "我这就过去" not in after and "李伟" in after
    with services.sessions() as s:
        assert s.get(Alarm, alarm_id).acknowledged_via == "caregiver_link"
    with services.sessions() as s, s.begin():
        s.get(Caregiver, cg.id).language = "en"  # a daughter abroad reads English
    assert "Who has acknowledged" in client.get(f"/c/{token}").text
    other = LinkSigner("another-secret", 3600).sign(LinkClaim(alarm_id, cg.id))
    for bad in (other, token[:-2] + "xx"):
        assert client.get(f"/c/{bad}").status_code == 403
        assert client.post(f"/c/{bad}/ack").status_code == 403
    assert client.get(f"/c/{other}/events").status_code == 403


def test_admin_registers_and_pairs_and_rejects_bad_input(services, client):
    signed_in(client, "boss")
    r = client.post(
        "/console/admin/residents",
        data={"code": "R2", "name": "张德福", "birth_year": "1939", "conditions": "冠心病，高血压"},
    )
    assert "已保存" in r.text and "张德福" in r.text
    signed_in(client, "root")  # who gets called, and through which channel, is the administrator's to change
    client.post("/console/admin/pairings", data={"resident": "R2", "code": "C1", "name": "李伟"})
    client.post("/console/admin/pairings", data={"resident": "R2", "code": "C2", "name": "张敏", "relation": "女儿"})
    # Re-registering a resident keeps their caregivers and their order.
    client.post("/console/admin/residents", data={"code": "R2", "name": "张德福", "address": "交道口南大街 48 号"})
    with services.sessions() as s:
        r2 = s.scalars(select(Resident).where(Resident.code == "R2")).one()
        assert r2.conditions == ["冠心病", "高血压"] and r2.address == "交道口南大街 48 号"
        ranks = [
            (p.rank, p.caregiver.code)
            for p in s.scalars(select(Pairing).where(Pairing.resident_id == r2.id).order_by(Pairing.rank))
        ]
        assert ranks == [(1, "C1"), (2, "C2")]
    bad = client.post("/console/admin/residents", data={"code": "R3", "name": "x", "birth_year": "19x8"})
    assert 'role="alert"' in bad.text
    unknown = client.post("/console/admin/pairings", data={"resident": "R404", "code": "C9", "name": "y"})
    assert "没有这个老人：R404" in unknown.text and unknown.status_code == 422


def test_what_people_type_is_shown_as_text_never_run(services, client):
    signed_in(client, "boss")
    page = client.post("/console/admin/residents", data={"code": "R5", "name": "<script>alert(1)</script>"}).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    reflected = client.get("/console/admin?error=<img src=x onerror=alert(1)>").text
    assert "<img src=x" not in reflected


def test_figures_page_counts_care_alarms_only(services, client):
    fast = raise_alarm(services, "sos", "emergency", minutes_ago=10, seq=1)
    slow = raise_alarm(services, "fall", "emergency", minutes_ago=20, seq=2)
    raise_alarm(services, "gateway_offline", "technical", minutes_ago=30, seq=3)
    cancelled = raise_alarm(services, "bp_high", "warning", minutes_ago=40, seq=4)
    with services.sessions() as s, s.begin():
        desk.acknowledge(s, fast, "值班员 赵敏", "console", NOW - timedelta(minutes=10) + timedelta(seconds=30))
        desk.acknowledge(s, slow, "主管 孙强", "console", NOW - timedelta(minutes=20) + timedelta(seconds=120))
        s.get(Alarm, cancelled).status = "cancelled"
    html = signed_in(client).get("/console/figures?lang=en").text
    total = re.search(r'id="figures-total".*?</table>', html, re.S).group(0)
    cells = re.findall(r"<td>([^<]*)</td>", total)
    assert cells[:4] == ["2", "50.0 %", "100.0 %", "0"] and cells[4] == "no"
    person = re.search(r'id="figures-person".*?</table>', html, re.S).group(0)
    assert "值班员 赵敏" in person and "主管 孙强" in person


def test_a_call_made_from_the_alarm_page_is_recorded_with_its_outcome(services, client):
    alarm_id = raise_alarm(services)
    with services.sessions() as s, s.begin():
        s.scalars(select(Caregiver)).one().phone = "13800138000"
    signed_in(client)
    page = client.get(f"/console/alarms/{alarm_id}").text
    assert 'href="tel:13800138000"' in page and f'action="/console/alarms/{alarm_id}/call"' in page
    r = client.post(
        f"/console/alarms/{alarm_id}/call",
        data={"number": "13800138000", "outcome": "no_answer", "note": "响了十声"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    client.post(f"/console/alarms/{alarm_id}/call", data={"number": "120", "outcome": "reached"})
    history = client.get(f"/console/alarms/{alarm_id}/panel").text
    assert "李伟 13800138000 · <strong>无人接听</strong> — “响了十声”" in history
    assert "— 120 · <strong>已接通</strong>" in history
    assert "no answer" in client.get(f"/console/alarms/{alarm_id}/panel?lang=en").text
    with services.sessions() as s:
        audited = s.scalars(select(AuditEntry).where(AuditEntry.action == "alarm.call")).all()
        assert [(a.actor, a.after["outcome"]) for a in audited] == [("duty", "no_answer"), ("duty", "reached")]
    # A number that is not on the page, or an outcome that is not offered, is refused with the reason and no record.
    refused = client.post(f"/console/alarms/{alarm_id}/call", data={"number": "110", "outcome": "reached"}).text
    assert "not a number of this alarm" in refused and 'role="alert"' in refused
    assert "not a number" not in client.get(f"/console/alarms/{alarm_id}/panel").text
    with services.sessions() as s:
        assert len(s.scalars(select(AuditEntry).where(AuditEntry.action == "alarm.call")).all()) == 2
    # Without the page's token the form is refused (CSRF).
    del client.headers["X-CSRF-Token"]
    assert (
        client.post(
            f"/console/alarms/{alarm_id}/call", data={"number": "120", "outcome": "busy"}, follow_redirects=False
        ).status_code
        == 403
    )


def test_admin_sends_a_test_message_per_channel_and_sees_its_failures(services, client, receiver):
    from anxin.ports import free_port
    from server.db.models import NotificationAttempt
    from server.masking import mask_url

    dead = f"json://127.0.0.1:{free_port()}/nobody-listens"
    alarm_id = raise_alarm(services)
    with services.sessions() as s, s.begin():
        s.scalars(select(Caregiver)).one().notify_urls = [receiver.url("/C1"), dead]
        for _ in range(3):
            s.add(
                NotificationAttempt(
                    alarm_id=alarm_id, recipient="李伟", channel=mask_url(dead), at=NOW, ok=False, error="refused"
                )
            )
        s.add(
            NotificationAttempt(
                alarm_id=alarm_id, recipient="李伟", channel=mask_url(receiver.url("/C1")), at=NOW, ok=True
            )
        )
    signed_in(client, "root")
    page = client.get("/console/admin").text
    assert re.findall(r'data-failures="(\d+)"', page) == ["0", "3"]
    assert 'action="/console/admin/channels/C1/0/test"' in page and "近 30 天发送失败" in page
    r = client.post("/console/admin/channels/C1/0/test", follow_redirects=False)
    assert r.status_code == 303
    arrived = receiver.wait_for(1, timeout=10)
    assert [m.path for m in arrived] == ["/C1"] and "测试消息" in arrived[0].text
    assert "测试消息已发出" in client.get(r.headers["location"]).text
    failed = client.post("/console/admin/channels/C1/1/test").text
    assert "测试消息发送失败" in failed and 'role="alert"' in failed
    assert len(receiver.received) == 1
    with services.sessions() as s:
        tests = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "pairing.channel_test").order_by(AuditEntry.id)
        ).all()
        assert [(t.actor, t.target, t.after["ok"]) for t in tests] == [("root", "C1", True), ("root", "C1", False)]
    assert client.post("/console/admin/channels/C1/7/test").status_code == 404
    # The desk's staff may not send through the families' channels.
    signed_in(client, "duty")
    assert client.post("/console/admin/channels/C1/0/test", follow_redirects=False).status_code == 403


def test_admin_removes_a_resident_through_the_erasure_never_while_an_alarm_is_open(services, client):
    from server.data_rights import ERASED_NAME

    alarm_id = raise_alarm(services)
    signed_in(client, "root")
    assert 'href="/console/admin/residents/R1/remove"' in client.get("/console/admin").text
    form = client.get("/console/admin/residents/R1/remove").text
    assert "不能移除：还有未结案的报警" in form and f'href="/console/alarms/{alarm_id}"' in form
    refused = client.post("/console/admin/residents/R1/remove", data={"confirm": "R1"})
    assert refused.status_code == 409 and "未移除：这位老人还有未结案的报警" in refused.text
    with services.sessions() as s:
        assert s.scalars(select(Resident)).one().name == "王秀英"
    client.post(f"/console/alarms/{alarm_id}/resolve", data={"outcome": "false_alarm"})

    form = client.get("/console/admin/residents/R1/remove?lang=en").text
    assert "All health readings are deleted." in form and "Alarm counts and times are kept" in form
    assert "/api/v1/data-rights/R1/export" in form
    typo = client.post("/console/admin/residents/R1/remove", data={"confirm": "R2"})
    assert typo.status_code == 422 and "does not match" in typo.text
    r = client.post("/console/admin/residents/R1/remove", data={"confirm": "R1"}, follow_redirects=False)
    assert r.status_code == 303
    with services.sessions() as s:
        resident = s.scalars(select(Resident)).one()
        assert (resident.name, resident.address, resident.erased_at is not None) == (ERASED_NAME, None, True)
        assert s.get(Alarm, alarm_id) is not None, "alarm counts stay for the figures"
        removed = s.scalars(select(AuditEntry).where(AuditEntry.action == "resident.remove")).one()
        assert (removed.actor, removed.target, removed.after["alarms_kept"]) == ("root", "R1", 1)
    assert "R1" not in re.findall(r"<tr><td>(\w+)", client.get("/console/admin").text)
    assert client.get("/console/admin/residents/R1/remove").status_code == 404
    # Supervisors register residents but erasing one is the administrator's (the permission table).
    signed_in(client, "boss")
    assert client.get("/console/admin/residents/R1/remove").status_code == 403
