"""Services at home in headless Chromium: a family member's request through their link reaches the desk, is
assigned to the suggested provider, the provider works it on a phone, the family rates it 2/5, and the
supervisor's follow-up appears — axe-core checked on every page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from firmware_sim import care_demo, services_demo
from firmware_sim.installation import DEMO_PASSWORD
from server.assist.context import assist_config
from server.auth import upsert_staff
from server.db.models import Resident
from tests.integration.browser import PHONE, accessible, screenshot, sign_in_desktop
from tests.integration.harness import provision, start_server
from tests.integration.services_site import server  # noqa: F401 - the fixture

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_family_request_is_assigned_worked_on_a_phone_rated_low_and_followed_up(browser, server) -> None:
    base = server.settings.base_url
    with server.services.sessions() as s:
        rid = s.scalars(select(Resident.id).where(Resident.code == "R001")).one()
    family_link = f"{base}/f/{assist_config(server.settings).links.family(rid)}"

    # The daughter asks for cleaning on her phone.
    family = browser.new_context(**PHONE, locale="zh-CN", bypass_csp=True).new_page()
    family.goto(family_link)
    expect(family.get_by_role("heading", name=re.compile("为 王秀英 申请服务"))).to_be_visible()
    accessible(family)
    family.get_by_text("助洁", exact=True).click()
    family.get_by_label("需求说明").fill("厨房和卫生间需要彻底打扫")
    screenshot(family, "family-request", "services")
    family.get_by_role("button", name="提交").click()
    expect(family.get_by_text("已提交，服务中心会尽快联系您。")).to_be_visible()
    expect(family.locator(".due-list")).to_contain_text("新登记")
    accessible(family)

    # It reaches the coordinator's queue; the suggestion is the provider in the resident's district.
    desk = sign_in_desktop(browser, server, "coord", "/console/requests")
    expect(desk.get_by_role("heading", name="服务需求", exact=True)).to_be_visible()
    row = desk.locator("#open tr", has_text="王秀英")
    expect(row).to_contain_text("助洁")
    expect(row).to_contain_text("家属")
    accessible(desk)
    screenshot(desk, "queue", "services")
    row.get_by_role("link").click()
    suggested = desk.locator(".pick", has_text="推荐")
    expect(suggested).to_contain_text("西城为老服务中心")
    expect(suggested).to_contain_text("同街道")
    expect(desk.locator("#p-P-WEST")).to_be_checked()
    accessible(desk)
    screenshot(desk, "assign", "services")
    desk.get_by_role("button", name="派单").click()
    expect(desk.locator(".facts")).to_contain_text("已派单")
    expect(desk.locator(".facts")).to_contain_text("西城为老服务中心")

    # The provider's link, from the providers page, opened on a 390×844 phone.
    desk.goto(f"{base}/console/providers")
    accessible(desk)
    link = desk.get_by_role("link", name="手机页链接 — 西城为老服务中心").get_attribute("href")
    worker = browser.new_context(**PHONE, locale="zh-CN", bypass_csp=True).new_page()
    worker.goto(link)
    job = worker.locator(".due-item", has_text="王秀英")
    expect(job).to_contain_text("厨房和卫生间需要彻底打扫")
    expect(job).to_contain_text("北京市")
    accessible(worker)
    screenshot(worker, "provider", "services")
    job.get_by_role("button", name="出发").click()
    worker.locator(".due-item", has_text="王秀英").get_by_role("button", name="已到达").click()
    job = worker.locator(".due-item", has_text="王秀英")
    expect(job).to_contain_text("到达")
    job.get_by_label("完成情况").fill("已打扫厨房和卫生间，约两小时")
    accessible(worker)
    job.get_by_role("button", name="完成服务").click()
    expect(worker.get_by_text("暂无服务单")).to_be_visible()

    # The family rates it 2 of 5.
    family.goto(family_link)
    rate = family.locator("section.due-item", has_text="西城为老服务中心")
    expect(rate).to_contain_text("已打扫厨房和卫生间")
    rate.get_by_text("2 分", exact=True).click()
    rate.get_by_label("意见").fill("卫生间地面没有拖干净")
    accessible(family)
    screenshot(family, "family-rate", "services")
    rate.get_by_role("button", name="评价").click()
    expect(family.get_by_text("已评价，谢谢！")).to_be_visible()

    # The supervisor's follow-up appears, and the dashboard shows the done request and the low rating.
    boss = sign_in_desktop(browser, server, "super", "/console/requests")
    follow = boss.locator("#follow-ups")
    expect(follow).to_contain_text("卫生间地面没有拖干净")
    expect(follow).to_contain_text("2 分")
    accessible(boss)
    screenshot(boss, "follow-up", "services")
    boss.goto(f"{base}/console/dashboard")
    expect(boss.locator("#satisfaction")).to_contain_text("助洁")
    expect(boss.locator("#unmet")).to_contain_text("助洁")
    accessible(boss)


def test_the_demo_month_on_the_dashboard_in_both_languages_with_an_xlsx_download(
    browser, tmp_path, central_broker, receiver
) -> None:
    server = start_server(tmp_path, central_broker.address)
    try:
        provision(server, 3, [receiver.url("/caregiver/{code}")])
        with server.services.sessions() as s, s.begin():
            upsert_staff(s, "super", "supervisor", "主管 孙强", DEMO_PASSWORD)
            care_demo.seed(s, server.services.clock())
            services_demo.seed(s, server.services.clock())
        boss = sign_in_desktop(browser, server, "super", "/console/dashboard")
        expect(boss.get_by_role("heading", name="决策数据")).to_be_visible()
        expect(boss.locator("#sla")).to_contain_text("助餐")
        expect(boss.locator("#ratings_provider")).to_contain_text("西城区为老服务中心")
        accessible(boss)
        screenshot(boss, "dashboard", "services")
        with boss.expect_download() as got:
            boss.get_by_role("link", name="下载 XLSX — 满意度").click()
        assert got.value.suggested_filename == "anxin-satisfaction.xlsx"
        boss.goto(f"{server.settings.base_url}/console/dashboard?lang=en")
        expect(boss.get_by_role("heading", name="Response and completion times against the SLA")).to_be_visible()
        accessible(boss)
        boss.goto(f"{server.settings.base_url}/console/activities?lang=zh-CN")
        expect(boss.locator("#notices")).to_contain_text("春节慰问活动安排")
        accessible(boss)
        boss.get_by_role("link", name="银发宣讲团").click()
        expect(boss.get_by_role("heading", name=re.compile("银发宣讲团"))).to_be_visible()
        accessible(boss)
        screenshot(boss, "team", "services")
    finally:
        server.stop()
