"""The duty console and the caregiver's phone page in a real headless Chromium, on the real SOS path:
button -> home broker -> gateway -> central Mosquitto -> server -> pushed to the open pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from firmware_sim.installation import DEMO_PASSWORD
from server.db.models import Alarm, Device
from tests.integration.axe import assert_no_serious_violations as axe_clean
from tests.integration.browser import DESKTOP, PHONE, enrich_first_resident, screenshot, seed_history
from tests.integration.harness import provision, start_home, start_server, wait_until

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = [pytest.mark.integration, pytest.mark.browser]

# Generous: two cores are shared by many test runs. The 2 s figure is measured in bench/, not here.
WAIT_MS = 15_000


@pytest.fixture
def installation(tmp_path, home_broker, central_broker, receiver):
    server = start_server(tmp_path, central_broker.address)
    provision(server, 2, [receiver.url("/caregiver/{code}")])
    enrich_first_resident(server)
    home = start_home(tmp_path, home_broker.address, central_broker.address)
    yield server, home
    home.stop()
    server.stop()


def sign_in(browser, server, username="duty"):
    """A staff member signs in with the keyboard only and lands on the queue."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", bypass_csp=True)  # bypass: axe-core's script
    page = context.new_page()
    page.goto(f"{server.settings.base_url}/console")
    expect(page).to_have_url(re.compile(r"/console/login"))
    axe_clean(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("wrong")
    page.get_by_label("密码").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_label("密码").press("Enter")
    expect(page.get_by_role("heading", name="未处理报警")).to_be_visible()
    expect(page.locator("body[data-connected='1']")).to_be_attached(timeout=WAIT_MS)
    page.evaluate("window.__sameDocument = true")  # gone if the page ever reloads
    return page


def still_same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def link_in(note) -> str:
    """The link the caregiver taps, exactly as the notification carries it."""
    found = re.search(r"https?://\S+/c/\S+", note.text)
    assert found, f"no caregiver link in {note.text!r}"
    return found.group(0)


def add_silent_door_contact(server) -> None:
    """A door contact last heard from 8 hours ago."""
    with server.services.sessions() as s, s.begin():
        s.add(
            Device(
                gateway_id="gw-r001",
                name="door-contact",
                family="zigbee2mqtt",
                role="door",
                last_seen=datetime.now(UTC) - timedelta(hours=8),
            )
        )


def the_alarm(server) -> Alarm:
    with server.services.sessions() as s:
        return s.query(Alarm).one()


def test_sos_appears_live_and_caregiver_ack_reaches_console(browser, installation, receiver):
    server, home = installation
    console = sign_in(browser, server)
    expect(console.get_by_text("当前没有未处理的报警")).to_be_visible()
    assert console.locator("body").get_attribute("data-alerting") == "0"

    home.button.press()
    row = console.locator("#queue tr[data-severity='emergency']")
    expect(row).to_be_visible(timeout=WAIT_MS)
    assert still_same_document(console), "the queue must update without a reload"
    assert console.locator("body").get_attribute("data-last-change") == "push", "not pushed by the server"
    expect(row).to_contain_text("紧急求助")
    expect(row).to_contain_text("王秀英")
    # An unanswered emergency sounds, and keeps sounding, until someone acknowledges it.
    expect(console.locator("#alert-banner")).to_be_visible()
    # Polled from here: wait_for_function evaluates a string in the page, which its CSP (no eval) forbids.
    assert wait_until(lambda: console.evaluate("window.anxinAlert.beeps >= 2"), WAIT_MS / 1000)
    screenshot(console, "queue")
    axe_clean(console)

    # The caregiver opens the link from the notification on a phone, without a password.
    note = receiver.wait_for(1, timeout=10)[0]
    phone = browser.new_context(**PHONE, locale="zh-CN", bypass_csp=True).new_page()
    phone.goto(link_in(note))
    expect(phone.get_by_role("heading", name="紧急求助")).to_be_visible()
    expect(phone.get_by_text("王秀英")).to_be_visible()
    expect(phone.get_by_text("德胜门内大街")).to_be_visible()
    expect(phone.get_by_role("link", name=re.compile("地图"))).to_have_attribute("href", re.compile("amap"))
    expect(phone.get_by_text("还没有人确认")).to_be_visible()
    screenshot(phone, "caregiver")
    axe_clean(phone)

    # Staff open the alarm: the resident's card.
    console.get_by_role("link", name="紧急求助").click()
    card = console.locator("section.resident")
    for text in ("王秀英", "90 岁", "德胜门内大街", "李伟（儿子）", "高血压", "氨氯地平", "152/92"):
        expect(card).to_contain_text(text)
    expect(card.locator("a[href^='tel:']").first).to_have_attribute("href", "tel:010-6612 3456")
    console.evaluate("window.__sameDocument = true")
    screenshot(console, "alarm")
    axe_clean(console)

    # Staff start typing a note while the caregiver answers: the live redraw must not lose it.
    console.get_by_label("备注").first.fill("正在给李伟打电话")

    # The caregiver taps the big button ...
    phone.get_by_role("button", name="已确认 — 我这就过去").click()
    expect(phone.get_by_text("已确认，谢谢")).to_be_visible()
    expect(phone.locator(".acks")).to_contain_text("李伟")
    screenshot(phone, "caregiver-acknowledged")
    axe_clean(phone)

    # ... and the open console page shows it without a reload, and the alert stops.
    expect(console.locator("#panel .status")).to_have_text("已确认", timeout=WAIT_MS)
    expect(console.locator("#panel .acks")).to_contain_text("李伟")
    expect(console.locator("#panel .acks")).to_contain_text("手机链接")
    assert still_same_document(console)
    expect(console.get_by_label("备注").first).to_have_value("正在给李伟打电话")
    expect(console.locator("body[data-alerting='0']")).to_be_attached(timeout=WAIT_MS)
    expect(console.locator("#alert-banner")).to_be_hidden()
    assert the_alarm(server).acknowledged_via == "caregiver_link"
    assert wait_until(lambda: any(b"help_coming" in p for _t, p in home.actions), 10), "the home was not told"


def test_console_ack_reaches_caregiver_page_and_resolve(browser, installation, receiver):
    server, home = installation
    console = sign_in(browser, server, "supervisor")
    home.button.press()
    note = receiver.wait_for(1, timeout=10)[0]
    phone = browser.new_context(**PHONE, locale="zh-CN", bypass_csp=True).new_page()
    phone.goto(link_in(note))
    expect(phone.get_by_text("还没有人确认")).to_be_visible()
    phone.evaluate("window.__sameDocument = true")

    console.locator("#queue a", has_text="紧急求助").click(timeout=WAIT_MS)
    with console.expect_navigation():
        console.get_by_role("button", name="确认接警").press("Enter")
    expect(console.locator("#panel .status")).to_have_text("已确认")

    # The caregiver's open page learns who answered, without a reload.
    expect(phone.locator(".acks")).to_contain_text("主管 孙强", timeout=WAIT_MS)
    assert still_same_document(phone)

    # The call made with the tel: button is written down with its outcome (not only dialled).
    console.get_by_label("打给谁").select_option("120")
    console.get_by_label("无人接听").check()
    console.get_by_label("通话情况（可不填）").fill("线路忙，稍后再拨")
    with console.expect_navigation():
        console.get_by_role("button", name="保存通话记录").click()
    expect(console.locator("#panel .history")).to_contain_text("主管 孙强 — 120 · 无人接听 — “线路忙，稍后再拨”")
    axe_clean(console)
    console.get_by_label("备注").first.fill("已电话联系，老人意识清醒")
    with console.expect_navigation():  # the form posts, then the page shows the alarm again
        console.get_by_role("button", name="添加备注").click()
    expect(console.locator("#panel .history")).to_contain_text("已电话联系")
    console.get_by_label("处理结果").select_option("helped_at_home")
    expect(console.get_by_label("处理结果")).to_have_value("helped_at_home")
    with console.expect_navigation():
        console.get_by_role("button", name="结案").click()
    expect(console.locator("#panel .status")).to_have_text("已处理")
    axe_clean(console)
    expect(phone.get_by_text("此报警已结束")).to_be_visible(timeout=WAIT_MS)
    axe_clean(phone)
    alarm = the_alarm(server)
    assert (alarm.status, alarm.outcome, alarm.acknowledged_by) == ("resolved", "helped_at_home", "主管 孙强")

    console.get_by_role("link", name="报警队列").click()
    expect(console.get_by_text("当前没有未处理的报警")).to_be_visible()


def test_language_switch_and_other_pages(browser, installation, receiver):
    server, home = installation
    console = sign_in(browser, server, "admin")
    home.button.battery = 12  # zigbee2mqtt reports it with every message; the gateway forwards it
    home.button.press()
    expect(console.locator("#queue tr[data-severity='emergency']")).to_be_visible(timeout=WAIT_MS)

    console.get_by_role("link", name="English").click()
    expect(console.get_by_role("heading", name="Open alarms")).to_be_visible()
    expect(console.locator("#queue")).to_contain_text("Emergency call (SOS)")
    expect(console.locator("html")).to_have_attribute("lang", "en")
    screenshot(console, "queue-en")
    axe_clean(console)
    # The choice sticks: the next page is English too, and live redraws keep the language.
    add_silent_door_contact(server)
    console.get_by_role("link", name="Technical").click()
    expect(console.get_by_role("heading", name="Gateways offline")).to_be_visible()
    # Home 2 was provisioned but its gateway never connected.
    expect(console.locator("section", has_text="Gateways offline")).to_contain_text("gw-r002")
    expect(console.locator("section", has_text="Batteries low")).to_contain_text("sos-button (gw-r001) · Battery 12 %")
    expect(console.locator("section", has_text="Silent devices")).to_contain_text("door-contact")
    screenshot(console, "technical")
    axe_clean(console)
    seed_history(server)
    console.get_by_role("link", name="Service figures").click()
    # 48 of 50 within 60 s, 49 within 180 s: below both targets, so the row says "no".
    expect(console.locator("#figures-total tbody td")).to_have_text(["50", "96.0 %", "98.0 %", "0", "no"])
    expect(console.locator("#figures-person")).to_contain_text("值班员 赵敏")
    screenshot(console, "figures")
    axe_clean(console)
    console.get_by_role("link", name="中文").click()
    expect(console.get_by_role("heading", name="服务指标")).to_be_visible()

    console.get_by_role("link", name="管理").click()
    register = console.locator("form[action='/console/admin/residents']")
    register.get_by_label("编号").fill("R900")
    register.get_by_label("姓名").fill("赵淑芬")
    register.get_by_label("出生年份").fill("1938")
    register.get_by_label("地址", exact=True).fill("北京市朝阳区和平里东街 5 号")
    register.get_by_role("button", name="保存").click()
    expect(console.locator("main").get_by_role("status")).to_contain_text("已保存")
    pairing = console.locator("form[action='/console/admin/pairings']")
    pairing.get_by_label("老人").select_option("R900")
    pairing.get_by_label("编号").fill("C900")
    pairing.get_by_label("姓名").fill("赵明")
    pairing.get_by_label("关系").fill("儿子")
    pairing.get_by_role("button", name="保存").click()
    row = console.locator("table.homes tr", has_text="R900")
    expect(row).to_contain_text("赵明 (儿子)")
    screenshot(console, "admin")
    axe_clean(console)
    # A test message through a caregiver's channel reaches their phone; the page says so.
    before = len(receiver.received)
    console.locator("table.homes tr", has_text="R001").get_by_role(
        "button", name=re.compile("发送测试消息")
    ).first.click()
    expect(console.locator("#channel-test-result")).to_contain_text("测试消息已发出")
    assert "测试消息" in receiver.wait_for(before + 1, timeout=10)[-1].text
    # Removing the new resident: the page says what happens to the data first, then asks for the code.
    console.get_by_role("link", name="移除老人 赵淑芬").click()
    expect(console.locator(".remove-effects")).to_contain_text("全部健康读数被删除")
    axe_clean(console)
    console.get_by_label(re.compile("输入老人编号 R900")).fill("R900")
    console.get_by_role("button", name="移除老人").click()
    expect(console.locator("main").get_by_role("status")).to_contain_text("已保存")
    expect(console.locator("table.homes tr", has_text="R900")).to_have_count(0)

    phone = browser.new_context(**PHONE, bypass_csp=True).new_page()
    phone.goto(f"{server.settings.base_url}/c/not-a-real-token?lang=en")
    expect(phone.get_by_role("alert")).to_contain_text("not valid")
    axe_clean(phone)
