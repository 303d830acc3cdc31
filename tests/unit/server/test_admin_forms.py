"""Admin forms that cannot lose data: a blank keeps what is stored, bad input is refused next to the
field and nothing is saved, the escalation order can be changed, and every change is audited."""

from __future__ import annotations

import html
import re

import yaml
from sqlalchemy import select

from server.broker_access import verify_password
from server.db.models import Caregiver, Gateway, Pairing, Resident
from server.db.models_security import AuditEntry
from server.provision import CaregiverIn, ProvisionFile, apply
from server.web.admin_pairings import moved
from tests.unit.server.pages import client, services, signed_in  # noqa: F401  (fixtures)

CHANNEL = "mailto://alarm:secret@example.com"


def with_channel(services) -> None:
    with services.sessions() as s, s.begin():
        apply(
            s,
            ProvisionFile(
                caregivers=[CaregiverIn(code="C1", name="李伟", relation="儿子", phone="13800138000", notify=[CHANNEL])]
            ),
        )


def caregiver(services, code: str = "C1") -> Caregiver:
    with services.sessions() as s:
        row = s.scalars(select(Caregiver).where(Caregiver.code == code)).one()
        s.expunge(row)
        return row


def order(services) -> list[str]:
    with services.sessions() as s:
        rid = s.scalars(select(Resident.id).where(Resident.code == "R1")).one()
        return [
            p.caregiver.code
            for p in s.scalars(select(Pairing).where(Pairing.resident_id == rid).order_by(Pairing.rank))
        ]


def test_resaving_a_caregiver_with_blank_fields_keeps_channel_phone_and_relation(services, client):
    with_channel(services)
    signed_in(client, "root")
    edit = client.get("/console/admin?caregiver=C1&resident=R1").text
    assert 'value="李伟"' in edit and "留空则保留现有的 1 个通知地址" in edit
    assert "secret" not in edit, "stored channels hold tokens: never shown back"
    r = client.post(
        "/console/admin/pairings",
        data={"resident": "R1", "code": "C1", "name": "", "phone": "", "relation": "", "notify_url": ""},
    )
    assert "已保存" in r.text
    row = caregiver(services)
    assert (row.notify_urls, row.phone, row.relation, row.name) == ([CHANNEL], "+8613800138000", "儿子", "李伟")
    # A new phone changes the phone, and only that.
    client.post("/console/admin/pairings", data={"resident": "R1", "code": "C1", "phone": "139 0013 9000"})
    row = caregiver(services)
    assert (row.notify_urls, row.phone) == ([CHANNEL], "+8613900139000")


def test_bad_url_and_phone_are_refused_next_to_their_field_and_nothing_is_saved(services, client):
    with_channel(services)
    signed_in(client, "root")
    r = client.post(
        "/console/admin/pairings",
        data={"resident": "R1", "code": "C1", "name": "李伟", "phone": "12345", "notify_url": "not a url at all"},
    )
    assert r.status_code == 422
    assert '<p class="field-error" id="p-notify_url-note">不是可用的通知地址：not a url at all' in r.text
    assert '<p class="field-error" id="p-phone-note">不是有效的电话号码：12345' in r.text
    assert 'value="not a url at all"' in r.text, "what was typed stays in the form"
    assert caregiver(services).notify_urls == [CHANNEL]
    new = client.post("/console/admin/pairings", data={"resident": "R1", "code": "C7", "name": ""})
    assert new.status_code == 422 and 'id="p-name-note">必填' in new.text


def test_order_can_be_changed_and_a_caregiver_unpaired_each_audited(services, client):
    signed_in(client, "root")
    client.post(
        "/console/admin/pairings",
        data={"resident": "R1", "code": "C2", "name": "张敏", "notify_url": "json://127.0.0.1:9/c2"},
    )
    assert order(services) == ["C1", "C2"]
    client.post("/console/admin/pairings/R1/C2/move", data={"direction": "up"})
    assert order(services) == ["C2", "C1"]
    client.post("/console/admin/pairings/R1/C2/remove")
    assert order(services) == ["C1"]
    assert caregiver(services, "C2").name == "张敏", "unpairing keeps the caregiver's record"
    with services.sessions() as s:
        trail = [
            (e.action, e.actor, e.after)
            for e in s.scalars(select(AuditEntry).where(AuditEntry.target_kind == "resident").order_by(AuditEntry.id))
        ]
    assert trail[-2:] == [
        ("pairing.write", "root", {"order": ["C2", "C1"]}),
        ("pairing.write", "root", {"order": ["C1"]}),
    ]


def test_moved_stays_put_at_either_end() -> None:
    assert moved(["a", "b", "c"], 0, "up") == ["a", "b", "c"]
    assert moved(["a", "b", "c"], 2, "down") == ["a", "b", "c"]
    assert moved(["a", "b", "c"], 1, "down") == ["a", "c", "b"]


def test_resident_form_shows_each_problem_by_its_field(services, client):
    signed_in(client, "boss")
    r = client.post(
        "/console/admin/residents",
        data={"code": "R1", "name": "王秀英", "birth_year": "19x8", "phone": "10086", "address": "别处"},
    )
    assert r.status_code == 422
    assert 'id="r-birth_year-note">出生年份应为 4 位数字' in r.text
    assert 'id="r-phone-note">不是有效的电话号码：10086' in r.text
    with services.sessions() as s:
        assert s.scalars(select(Resident.address).where(Resident.code == "R1")).one() == "德胜门内大街 12 号"


def test_gateway_and_device_are_added_from_the_page_and_audited(services, client):
    signed_in(client, "root")
    bad = client.post("/console/admin/gateways", data={"gateway_id": "GW R1!", "resident": "R404"})
    assert bad.status_code == 422
    assert 'id="g-gateway_id-note">只能用小写字母' in bad.text and 'id="g-resident-note">没有这个老人：R404' in bad.text
    added = client.post("/console/admin/gateways", data={"gateway_id": "gw-r001", "resident": "R1"})
    assert "已保存" in added.text and "只显示这一次" in added.text
    # The central broker lets in only provisioned gateways: the page hands over the credentials, once.
    config = yaml.safe_load(html.unescape(re.search(r'<pre id="gateway-config">(.*?)</pre>', added.text, re.S)[1]))
    assert config["gateway_id"] == "gw-r001" and config["central_broker"]["username"] == "gw-r001"
    with services.sessions() as s:
        stored = s.scalar(select(Gateway.mqtt_password_hash).where(Gateway.id == "gw-r001"))
    assert verify_password(config["central_broker"]["password"], stored), "the password shown does not log in"
    assert config["central_broker"]["password"] not in str(stored)
    # "Pair this device" from the coverage page prefills what the gateway reported.
    form = client.get("/console/admin?gateway=gw-r001&device=0x00158d0001").text
    assert 'value="0x00158d0001"' in form and '<option value="gw-r001" selected>' in form
    r = client.post(
        "/console/admin/devices",
        data={"gateway": "gw-r001", "name": "0x00158d0001", "family": "zigbee2mqtt", "role": "door", "room": "门厅"},
    )
    assert "已保存" in r.text
    again = client.post(
        "/console/admin/devices",
        data={"gateway": "gw-r001", "name": "0x00158d0001", "family": "zigbee2mqtt", "role": "door"},
    )
    assert again.status_code == 422 and "已存在：0x00158d0001" in again.text
    with services.sessions() as s:
        from server.db.models import Device

        assert [(d.name, d.role, d.room) for d in s.scalars(select(Device))] == [("0x00158d0001", "door", "门厅")]
        actions = [e.action for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert actions[-2:] == ["gateway.write", "device.write"]
    signed_in(client, "boss")
    assert client.post("/console/admin/gateways", data={"gateway_id": "gw-x", "resident": "R1"}).status_code == 403


def test_a_staff_account_is_created_from_the_page_each_field_checked(services, client):
    signed_in(client, "root")
    bad = client.post(
        "/console/accounts",
        data={
            "username": "duty",
            "display_name": "值班员 2",
            "role": "staff",
            "password": "short",
            "notify_url": "not a url at all",
        },
    )
    assert bad.status_code == 422
    assert 'id="a-username-note">已存在：duty' in bad.text
    assert 'id="a-notify_url-note">不是可用的通知地址' in bad.text
    weak = client.post(
        "/console/accounts",
        data={"username": "night", "display_name": "夜班 钱进", "role": "staff", "password": "short"},
    )
    assert weak.status_code == 422 and 'id="a-password-note">密码不符合要求' in weak.text
    ok = client.post(
        "/console/accounts",
        data={
            "username": "night",
            "display_name": "夜班 钱进",
            "role": "staff",
            "password": "correct horse battery staple",
            "notify_url": "mailto://night:pw@example.com",
        },
    )
    assert "已保存" in ok.text and "夜班 钱进" in ok.text
    with services.sessions() as s:
        from server.db.models import Staff

        night = s.scalars(select(Staff).where(Staff.username == "night")).one()
        assert (night.role, night.notify_urls) == ("staff", ["mailto://night:pw@example.com"])
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "staff.create")).one()
        assert entry.target == "night" and "pw@" not in str(entry.after), "secrets are masked in the audit"
