"""The console for the night shift, in a real headless Chromium on the real SOS path: the banner names the
resident, the tab title flashes, acknowledging takes two keys from the queue, and a lost connection greys
the queue out under a full-width banner."""

from __future__ import annotations

import re

import pytest

from firmware_sim.installation import DEMO_DUTY_PHONE
from tests.integration.browser import PHONE, WAIT_MS, accessible, screenshot, sign_in
from tests.integration.harness import provision, start_home, start_server, wait_until

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def installation(tmp_path, home_broker, central_broker, receiver):
    server = start_server(tmp_path, central_broker.address)
    server.settings.duty_phone = DEMO_DUTY_PHONE
    provision(server, 1, [receiver.url("/caregiver/{code}")])
    home = start_home(tmp_path, home_broker.address, central_broker.address)
    yield server, home
    home.stop()
    server.stop()


def test_acknowledge_from_the_queue_by_keyboard_alone(browser, installation):
    server, home = installation
    duty = sign_in(browser, server, "duty")
    home.button.press()
    row = duty.locator("#queue tr[data-severity='emergency']")
    expect(row).to_be_visible(timeout=WAIT_MS)
    # The banner names the resident and links to the alarm; the tab title flashes the name.
    who = duty.locator("#alert-banner").get_by_role("link", name="王秀英")
    expect(who).to_have_attribute("href", re.compile(r"^/console/alarms/\d+$"))
    assert wait_until(lambda: duty.title().startswith("‼") and "王秀英" in duty.title(), WAIT_MS / 1000), duty.title()
    accessible(duty)
    screenshot(duty, "queue-night", full_page=False)

    alarm_id = row.get_attribute("data-alarm-id")
    duty.locator("body").focus()
    presses = ["j", "a"]  # next alarm, acknowledge
    duty.keyboard.press(presses[0])
    expect(duty.locator(f"#alarm-link-{alarm_id}")).to_be_focused()
    with duty.expect_navigation():
        duty.keyboard.press(presses[1])
    assert len(presses) <= 6
    expect(row).to_have_attribute("data-status", "acknowledged", timeout=WAIT_MS)
    expect(row).to_contain_text("值班员 赵敏")
    expect(duty.locator(f"#alarm-link-{alarm_id}")).to_be_focused()  # the focus stays on the work
    expect(row.get_by_role("button", name=re.compile("确认接警"))).to_have_count(0)
    assert wait_until(lambda: not duty.title().startswith("‼"), WAIT_MS / 1000), "the title kept flashing"

    # On the alarm: N goes to the note, and once acknowledged, 确认接警 is no longer offered.
    duty.keyboard.press("Enter")
    expect(duty.locator("#panel .status")).to_have_text("已确认")
    # Where: the device's kind and room, and whether the home's gateway is online.
    expect(duty.locator("#panel")).to_contain_text("紧急按钮 · 房间: bedroom")
    expect(duty.locator("#panel .badge.gw-online")).to_have_text("在线")
    expect(duty.get_by_role("button", name="确认接警")).to_have_count(0)
    duty.keyboard.press("n")
    expect(duty.locator("#note-text")).to_be_focused()


def test_losing_the_server_greys_the_queue_under_a_full_width_banner(browser, installation):
    server, home = installation
    duty = sign_in(browser, server, "duty")
    home.button.press()
    expect(duty.locator("#queue tr[data-severity='emergency']")).to_be_visible(timeout=WAIT_MS)
    banner = duty.locator("#offline-banner")
    expect(banner).to_be_hidden()
    server.stop()
    expect(banner).to_be_visible(timeout=WAIT_MS)
    expect(banner).to_contain_text("连接中断")
    expect(banner.locator(".when")).to_have_text(re.compile(r"^\d{1,2}:\d{2}:\d{2}$"))
    width = duty.evaluate("document.getElementById('offline-banner').getBoundingClientRect().width")
    assert width >= duty.viewport_size["width"] - 20, "not full width"
    expect(duty.locator("#queue")).to_have_css("opacity", "0.45")
    expect(duty.locator("#queue")).to_have_css("filter", "grayscale(1)")
    screenshot(duty, "queue-offline", full_page=False)


def test_expired_link_offers_the_duty_phone_as_a_call_button(browser, installation):
    server, _home = installation
    phone = browser.new_context(**PHONE, locale="zh-CN", bypass_csp=True).new_page()
    phone.goto(f"{server.settings.base_url}/c/not-a-real-token")
    expect(phone.get_by_role("alert")).to_contain_text("链接无效或已过期")
    call = phone.get_by_role("link", name=re.compile("拨打值班电话"))
    expect(call).to_have_attribute("href", "tel:01065001200")
    expect(call).to_contain_text(DEMO_DUTY_PHONE)
    accessible(phone)


def test_caregiver_who_cannot_come_says_so_and_the_desk_is_called_at_once(browser, installation, receiver):
    from sqlalchemy import select

    from server.db.models import Staff

    server, home = installation
    with server.services.sessions() as s, s.begin():
        s.scalars(select(Staff).where(Staff.username == "duty")).one().notify_urls = [receiver.url("/duty")]
    home.button.press()
    note = receiver.wait_for(1, timeout=15)[0]
    assert note.path == "/caregiver/R001"
    link = re.search(r"https?://\S+/c/\S+", note.text).group(0)
    phone = browser.new_context(**PHONE, locale="zh-CN", bypass_csp=True).new_page()
    phone.goto(link)
    phone.get_by_role("button", name="我来不了 — 请联系下一位").click()
    expect(phone.get_by_role("status")).to_contain_text("正在通知下一位联系人")
    # The caregiver's 120 s are not waited out: the duty desk hears at once.
    assert wait_until(lambda: any(r.path == "/duty" for r in receiver.received), 15), "the desk was not called"
    accessible(phone)


def test_on_the_desk_laptop_acknowledge_and_phone_numbers_are_above_the_fold(browser, installation):
    from tests.integration.browser import enrich_first_resident

    server, home = installation
    enrich_first_resident(server)
    duty = sign_in(browser, server, "duty")
    home.button.press()
    duty.locator("#queue a", has_text="紧急求助").click(timeout=WAIT_MS)
    height = duty.viewport_size["height"]
    for target in (
        duty.locator("#ack-button"),
        duty.locator(".calls a[href='tel:010-6612 3456']"),
        duty.locator(".calls a[href='tel:138 0013 8000']"),
        duty.locator(".calls a[href='tel:120']"),
    ):
        expect(target).to_be_visible()
        bottom = target.evaluate("e => e.getBoundingClientRect().bottom")
        assert bottom <= height, f"below the fold at {height}px: {bottom}"
    accessible(duty)
    screenshot(duty, "alarm-night", full_page=False)
