"""Issue 16 in a real headless Chromium on the real SOS path: nobody reachable is never silent, the
admin form keeps what it does not show, and the coverage page names who is unprotected."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from server.db.models import Caregiver, Staff
from tests.integration.browser import WAIT_MS, accessible, screenshot, sign_in
from tests.integration.harness import provision, start_home, start_server, wait_until

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def unreachable_family(tmp_path, home_broker, central_broker, receiver):
    """Resident R001 whose only caregiver has no channel (the blanked form); the supervisor has one."""
    server = start_server(tmp_path, central_broker.address)
    provision(server, 1, [])
    with server.services.sessions() as s, s.begin():
        s.scalars(select(Staff).where(Staff.username == "supervisor")).one().notify_urls = [receiver.url("/boss")]
    home = start_home(tmp_path, home_broker.address, central_broker.address)
    yield server, home
    home.stop()
    server.stop()


def test_alarm_nobody_can_be_told_about_is_red_on_the_queue_and_reaches_the_supervisor(
    browser, unreachable_family, receiver
):
    server, home = unreachable_family
    duty = sign_in(browser, server, "duty")
    home.button.press()
    row = duty.locator("#queue tr[data-severity='emergency']")
    expect(row).to_contain_text("未能通知 — 无可用联系人", timeout=WAIT_MS)
    expect(row.locator(".unreached")).to_have_css("color", "rgb(176, 0, 0)")
    # Every console page says so, naming the resident, with a link to the alarm.
    banner = duty.locator("#unreached-banner")
    expect(banner).to_be_visible()
    expect(banner.get_by_role("link", name="王秀英")).to_have_attribute("href", re.compile(r"/console/alarms/\d+"))
    assert wait_until(lambda: any(r.path == "/boss" for r in receiver.received), WAIT_MS / 1000), (
        "the supervisor was not told"
    )
    boss = next(r for r in receiver.received if r.path == "/boss")
    assert "未能通知家属" in boss.text and "王秀英" in boss.text
    accessible(duty)
    screenshot(duty, "queue-unreached", full_page=False)

    banner.get_by_role("link", name="王秀英").click()
    expect(
        duty.locator("#alarm-panel, main").get_by_role("alert").filter(has_text="未能通知 — 无可用联系人").first
    ).to_be_visible()
    expect(duty.get_by_text("无人可通知，已转下一级").first).to_be_visible()
    accessible(duty)
    screenshot(duty, "alarm-unreached", full_page=False)
    with server.services.sessions() as s:
        assert s.scalars(select(Caregiver)).one().notify_urls == []


@pytest.fixture
def paired(tmp_path, central_broker, receiver):
    """R001 with caregiver C001 reachable through one channel."""
    server = start_server(tmp_path, central_broker.address)
    provision(server, 1, [receiver.url("/caregiver/{code}")])
    yield server
    server.stop()


def test_resaving_a_caregiver_with_the_channel_left_blank_keeps_the_channel(browser, paired, receiver):
    server = paired
    admin = sign_in(browser, server, "admin", "/console/admin")
    row = admin.locator("table.homes tr", has_text="R001")
    row.get_by_role("link", name="编辑 李伟").click()
    form = admin.locator("form[action='/console/admin/pairings']")
    expect(form.get_by_label("姓名")).to_have_value("李伟")
    expect(form.get_by_label("通知地址")).to_have_value("")
    expect(form.get_by_text("留空则保留现有的 1 个通知地址")).to_be_visible()
    form.get_by_label("电话").fill("139 0013 9000")
    form.get_by_role("button", name="保存").click()
    expect(admin.locator("main").get_by_role("status")).to_contain_text("已保存")
    with server.services.sessions() as s:
        c001 = s.scalars(select(Caregiver).where(Caregiver.code == "C001")).one()
        assert c001.notify_urls == [receiver.url("/caregiver/R001")], "the blank field erased the channel"
        assert c001.phone == "+8613900139000"

    # Not a URL at all: refused next to the field, nothing saved.
    row.get_by_role("link", name="编辑 李伟").click()
    form.get_by_label("通知地址").fill("not a url at all")
    form.get_by_role("button", name="保存").click()
    expect(form.locator("#p-notify_url-note")).to_contain_text("不是可用的通知地址")
    expect(form.get_by_label("通知地址")).to_have_attribute("aria-invalid", "true")
    accessible(admin)
    screenshot(admin, "admin-field-error", full_page=False)
    with server.services.sessions() as s:
        assert s.scalars(select(Caregiver.notify_urls).where(Caregiver.code == "C001")).one() == [
            receiver.url("/caregiver/R001")
        ]


def test_coverage_lists_a_resident_without_gateway_and_a_caregiver_without_channel(browser, paired):
    server = paired
    admin = sign_in(browser, server, "admin", "/console/admin")
    register = admin.locator("form[action='/console/admin/residents']")
    register.get_by_label("编号").fill("R900")
    register.get_by_label("姓名").fill("赵淑芬")
    register.get_by_role("button", name="保存").click()
    expect(admin.locator("main").get_by_role("status")).to_contain_text("已保存")
    pairing = admin.locator("form[action='/console/admin/pairings']")
    pairing.get_by_label("老人").select_option("R900")
    pairing.get_by_label("编号").fill("C900")
    pairing.get_by_label("姓名").fill("赵明")
    pairing.get_by_role("button", name="保存").click()
    expect(admin.locator("table.homes tr", has_text="R900")).to_contain_text("无通知渠道")

    admin.get_by_role("link", name="保障状况").click()
    expect(admin.get_by_role("heading", name="保障状况")).to_be_visible()
    gaps = admin.locator("#coverage-gaps tbody tr")
    r900 = gaps.filter(has_text="R900 赵淑芬")
    expect(r900.filter(has_text="没有网关：报警无法送达")).to_have_count(1)
    expect(r900.filter(has_text="家属没有通知渠道：赵明")).to_have_count(1)
    expect(r900.filter(has_text="没有可用的家属联系渠道").locator(".badge")).to_have_text("无人响应")
    # Worst first: every risk-0 row comes before any lesser one.
    risks = [int(c.split("risk-")[1].split()[0]) for c in gaps.evaluate_all("rows => rows.map(r => r.className)")]
    assert risks == sorted(risks) and risks[0] == 0
    accessible(admin)
    screenshot(admin, "coverage", full_page=False)
