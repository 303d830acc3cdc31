"""The care record in headless Chromium: a coordinator builds a record, a helper logs a visit on a phone,
and a real SOS from a simulated home puts a follow-up visit on the helper's list."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from firmware_sim.installation import DEMO_PASSWORD
from server.auth import upsert_staff
from server.db.models import Alarm
from tests.integration.axe import violations
from tests.integration.browser import DESKTOP, PHONE, screenshot
from tests.integration.harness import provision, start_home, start_server, wait_until
from tests.unit.care.example import EXAMPLE

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = [pytest.mark.integration, pytest.mark.browser]
WAIT_MS = 15_000
CST = timezone(timedelta(hours=8))


@pytest.fixture
def installation(tmp_path, home_broker, central_broker, receiver):
    server = start_server(tmp_path, central_broker.address)
    provision(server, 1, [receiver.url("/caregiver/{code}")])
    with server.services.sessions() as s, s.begin():
        upsert_staff(s, "coord", "coordinator", "协调员 周兰", DEMO_PASSWORD)
    home = start_home(tmp_path, home_broker.address, central_broker.address)
    yield server, home
    home.stop()
    server.stop()


def accessible(page) -> None:
    found = violations(page)
    assert found == [], f"axe-core: {found}"


def sign_in(browser, server):
    page = browser.new_context(viewport=DESKTOP, locale="zh-CN", bypass_csp=True).new_page()
    page.goto(f"{server.settings.base_url}/console/residents")
    page.get_by_label("用户名").fill("coord")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_label("密码").press("Enter")
    expect(page.get_by_role("heading", name="老人档案")).to_be_visible()
    return page


def test_coordinator_builds_a_record_and_a_helper_logs_the_visit_from_a_phone(browser, installation):
    server, home = installation
    base = server.settings.base_url
    desk = sign_in(browser, server)
    accessible(desk)

    # A new resident: born 1941, living alone -> 高龄 and 空巢 at once.
    desk.get_by_role("link", name="新建档案").click()
    desk.get_by_label("编号").fill("R100")
    desk.get_by_label("姓名").fill("赵桂兰")
    desk.get_by_label("出生日期").fill("1941-04-18")
    desk.get_by_label("居住情况").select_option("alone")
    desk.get_by_label("街道 / 区").fill("西城区")
    desk.get_by_label("住址").fill("北京市西城区新街口外大街 8 号院 2-401")
    desk.get_by_label("疾病 (每行一项)").fill("高血压\n骨质疏松")
    desk.get_by_label("兴趣爱好 (每行一项)").fill("太极拳")
    accessible(desk)
    desk.get_by_role("button", name="保存").click()
    expect(desk.get_by_role("heading", name=re.compile("赵桂兰"))).to_be_visible()
    expect(desk.locator("#categories")).to_contain_text("高龄")
    expect(desk.locator("#categories")).to_contain_text("空巢")
    expect(desk.locator("#categories")).not_to_contain_text("失能")

    # The assessment: the hand-computed example (docs/residents.md) totals 54 -> 中度失能.
    desk.get_by_role("link", name="新建评估").click()
    expect(desk.get_by_role("heading", name="老年人能力评估表（GB/T 42195-2022）")).to_be_visible()
    accessible(desk)
    desk.get_by_label("评估员").fill("评估员 陈静")
    desk.get_by_label("原因").select_option("first")
    for code, score in EXAMPLE.items():
        desk.locator(f"#i-{code.replace('.', '-')}-{score}").check()
    screenshot(desk, "assessment-form", "residents", full_page=False)  # the whole form is 26 boxes long
    desk.get_by_role("button", name="计算并保存").click()
    expect(desk.locator("[data-total]")).to_have_text("54 / 90")
    expect(desk.locator("[data-grade]")).to_have_text("能力中度受损（中度失能）")
    screenshot(desk, "assessment", "residents", full_page=False)

    desk.get_by_role("link", name="返回").click()
    expect(desk.locator("#categories")).to_contain_text("失能")
    expect(desk.locator("#categories")).to_contain_text("高风险")

    # A young cadre paired, the plan starting a week ago: the default for a high-risk resident is weekly.
    desk.get_by_text("结对新帮扶人").click()
    desk.get_by_label("帮扶人编号").fill("H100")
    desk.locator("#hp-name").fill("青年干部 刘洋")
    desk.locator("#hp-role").select_option("young_cadre")
    desk.locator("#hp-channel").select_option("visit")
    week_ago = (datetime.now(CST) - timedelta(days=7)).date().isoformat()
    desk.get_by_label("开始日期").fill(week_ago)
    desk.get_by_role("button", name="结对").click()
    helpers = desk.locator("#helpers table")
    expect(helpers).to_contain_text("FREQ=WEEKLY")
    expect(helpers).to_contain_text("逾期")
    screenshot(desk, "profile", "residents")
    accessible(desk)
    link = desk.locator("[data-helper-link='H100']").get_attribute("href")

    desk.goto(f"{base}/console/care")
    expect(desk.locator("#overdue")).to_contain_text("赵桂兰")
    accessible(desk)

    # The helper opens their link on a phone: the visit is listed, overdue, with one button to log it.
    phone = browser.new_context(**PHONE, locale="zh-CN", bypass_csp=True).new_page()
    phone.goto(f"{base}{link}")
    expect(phone.get_by_role("heading", name="您好，青年干部 刘洋")).to_be_visible()
    item = phone.locator(".due-item", has_text="赵桂兰")
    expect(item).to_contain_text("上门探访")
    expect(item).to_contain_text("逾期")
    accessible(phone)
    screenshot(phone, "helper", "residents")
    item.get_by_role("link", name=re.compile("记录")).click()
    phone.get_by_text("上门探访").click()
    phone.get_by_text("好", exact=True).first.click()
    phone.get_by_text("稳定").click()
    phone.get_by_text("良好").click()
    phone.get_by_text("跌倒风险").click()
    phone.get_by_label("提出的需求").fill("卫生间想装扶手")
    accessible(phone)
    screenshot(phone, "helper-contact", "residents")
    phone.get_by_role("button", name="保存").click()
    expect(phone.get_by_text("已记录，谢谢！")).to_be_visible()
    expect(phone.locator(".due-item", has_text="赵桂兰")).not_to_contain_text("逾期")

    phone.goto(f"{base}{link}?lang=en")
    expect(phone.get_by_role("heading", name="Hello, 青年干部 刘洋")).to_be_visible()
    expect(phone.locator(".due-item", has_text="赵桂兰")).to_contain_text("Home visit")
    accessible(phone)
    phone.goto(f"{base}{link}?lang=zh-CN")

    desk.reload()
    expect(desk.locator("#overdue")).to_contain_text("没有逾期的联系")
    desk.goto(f"{base}/console/residents/R100")
    expect(desk.locator("#contacts")).to_contain_text("卫生间想装扶手")
    expect(desk.locator("#contacts")).to_contain_text("跌倒风险")

    # English second: the same page, every word translated, still clean.
    desk.goto(f"{base}/console/residents/R100?lang=en")
    expect(desk.get_by_role("heading", name="Ability assessments")).to_be_visible()
    expect(desk.locator("#categories")).to_contain_text("Disabled")
    accessible(desk)

    # A real SOS from the home of R001: the helper paired there gets a follow-up visit on the list.
    desk.goto(f"{base}/console/residents/R001?lang=zh-CN")
    desk.get_by_text("结对新帮扶人").click()
    desk.get_by_label("帮扶人编号").fill("H100")
    desk.get_by_role("button", name="结对").click()
    home.button.press()

    def alarm_raised() -> bool:
        with server.services.sessions() as s:
            return s.query(Alarm).filter(Alarm.severity == "emergency").count() == 1

    assert wait_until(alarm_raised, timeout=20)
    phone.goto(f"{base}{link}")
    follow = phone.locator(".due-item", has_text="紧急情况后回访")
    expect(follow).to_contain_text("王秀英")
    tomorrow = (datetime.now(CST) + timedelta(hours=24)).date().isoformat()
    expect(follow).to_contain_text(tomorrow)
