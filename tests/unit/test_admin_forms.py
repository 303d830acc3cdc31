"""Admin forms that cannot lose data: a blank keeps what is stored, bad input is refused next to the
field and nothing is saved, the escalation order can be changed, and every change is audited."""

from __future__ import annotations

from sqlalchemy import select

from server.db.models import Caregiver, Pairing, Resident
from server.db.models_security import AuditEntry
from server.provision import CaregiverIn, ProvisionFile, apply
from server.web.admin_pairings import moved
from tests.unit.test_web_pages import client, services, signed_in  # noqa: F401  (fixtures)

CHANNEL = "mailto://alarm:secret@example.com"


def with_channel(services) -> None:  # noqa: F811
    with services.sessions() as s, s.begin():
        apply(s, ProvisionFile(caregivers=[CaregiverIn(code="C1", name="李伟", relation="儿子",
                                                       phone="13800138000", notify=[CHANNEL])]))


def caregiver(services, code: str = "C1") -> Caregiver:  # noqa: F811
    with services.sessions() as s:
        row = s.scalars(select(Caregiver).where(Caregiver.code == code)).one()
        s.expunge(row)
        return row


def order(services) -> list[str]:  # noqa: F811
    with services.sessions() as s:
        rid = s.scalars(select(Resident.id).where(Resident.code == "R1")).one()
        return [p.caregiver.code for p in s.scalars(select(Pairing).where(Pairing.resident_id == rid)
                                                    .order_by(Pairing.rank))]


def test_resaving_a_caregiver_with_blank_fields_keeps_channel_phone_and_relation(services, client):  # noqa: F811
    with_channel(services)
    signed_in(client, "root")
    edit = client.get("/console/admin?caregiver=C1&resident=R1").text
    assert 'value="李伟"' in edit and "留空则保留现有的 1 个通知地址" in edit
    assert "secret" not in edit, "stored channels hold tokens: never shown back"
    r = client.post("/console/admin/pairings", data={"resident": "R1", "code": "C1", "name": "",
                                                     "phone": "", "relation": "", "notify_url": ""})
    assert "已保存" in r.text
    row = caregiver(services)
    assert (row.notify_urls, row.phone, row.relation, row.name) == ([CHANNEL], "+8613800138000", "儿子", "李伟")
    # A new phone changes the phone, and only that.
    client.post("/console/admin/pairings", data={"resident": "R1", "code": "C1", "phone": "139 0013 9000"})
    row = caregiver(services)
    assert (row.notify_urls, row.phone) == ([CHANNEL], "+8613900139000")


def test_bad_url_and_phone_are_refused_next_to_their_field_and_nothing_is_saved(services, client):  # noqa: F811
    with_channel(services)
    signed_in(client, "root")
    r = client.post("/console/admin/pairings", data={"resident": "R1", "code": "C1", "name": "李伟",
                                                     "phone": "12345", "notify_url": "not a url at all"})
    assert r.status_code == 422
    assert '<p class="field-error" id="p-notify_url-note">不是可用的通知地址：not a url at all' in r.text
    assert '<p class="field-error" id="p-phone-note">不是有效的电话号码：12345' in r.text
    assert 'value="not a url at all"' in r.text, "what was typed stays in the form"
    assert caregiver(services).notify_urls == [CHANNEL]
    new = client.post("/console/admin/pairings", data={"resident": "R1", "code": "C7", "name": ""})
    assert new.status_code == 422 and 'id="p-name-note">必填' in new.text


def test_order_can_be_changed_and_a_caregiver_unpaired_each_audited(services, client):  # noqa: F811
    signed_in(client, "root")
    client.post("/console/admin/pairings", data={"resident": "R1", "code": "C2", "name": "张敏",
                                                 "notify_url": "json://127.0.0.1:9/c2"})
    assert order(services) == ["C1", "C2"]
    client.post("/console/admin/pairings/R1/C2/move", data={"direction": "up"})
    assert order(services) == ["C2", "C1"]
    client.post("/console/admin/pairings/R1/C2/remove")
    assert order(services) == ["C1"]
    assert caregiver(services, "C2").name == "张敏", "unpairing keeps the caregiver's record"
    with services.sessions() as s:
        trail = [(e.action, e.actor, e.after) for e in s.scalars(select(AuditEntry).where(
            AuditEntry.target_kind == "resident").order_by(AuditEntry.id))]
    assert trail[-2:] == [("pairing.write", "root", {"order": ["C2", "C1"]}),
                          ("pairing.write", "root", {"order": ["C1"]})]


def test_moved_stays_put_at_either_end() -> None:
    assert moved(["a", "b", "c"], 0, "up") == ["a", "b", "c"]
    assert moved(["a", "b", "c"], 2, "down") == ["a", "b", "c"]
    assert moved(["a", "b", "c"], 1, "down") == ["a", "c", "b"]


def test_resident_form_shows_each_problem_by_its_field(services, client):  # noqa: F811
    signed_in(client, "boss")
    r = client.post("/console/admin/residents", data={"code": "R1", "name": "王秀英", "birth_year": "19x8",
                                                      "phone": "10086", "address": "别处"})
    assert r.status_code == 422
    assert 'id="r-birth_year-note">出生年份应为 4 位数字' in r.text
    assert 'id="r-phone-note">不是有效的电话号码：10086' in r.text
    with services.sessions() as s:
        assert s.scalars(select(Resident.address).where(Resident.code == "R1")).one() == "德胜门内大街 12 号"
