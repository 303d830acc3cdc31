"""A coordinator publishes a notice in Chromium with "read aloud" ticked; the caregivers' receiver gets it,
and the notice's page counts it, names the home it went to and says helpers have no push channel (axe-core)."""

from __future__ import annotations

import pytest

from tests.integration.browser import accessible, sign_in_desktop
from tests.integration.harness import wait_until
from tests.integration.services_site import server  # noqa: F401 - the fixture

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_a_published_notice_reaches_the_caregivers_and_its_page_counts_it(browser, server, receiver) -> None:
    page = sign_in_desktop(browser, server, "coord", "/console/activities")
    page.get_by_label("标题", exact=True).last.fill("社区义诊")
    page.get_by_label("内容").fill("周三上午九点，社区卫生服务站，免费量血压")
    page.get_by_label("同时在老人家中语音播报（一般优先级，不打断紧急提示）").check()
    page.get_by_role("button", name="发布通知").click()
    page.get_by_role("link", name="社区义诊").click()
    expect(page.get_by_role("heading", name="社区义诊")).to_be_visible()
    assert wait_until(lambda: [r for r in receiver.received if "社区义诊" in str(r.doc.get("title"))], timeout=30)
    told = len([r for r in receiver.received if "社区义诊" in str(r.doc.get("title"))])

    def counted() -> bool:
        page.reload()
        return page.locator("#count-sent").inner_text() == str(told)

    assert wait_until(counted, timeout=30, interval=0.5), page.locator("#delivery-counts").inner_text()
    expect(page.locator("#count-failed")).to_have_text("0")
    expect(page.get_by_text("帮扶人没有推送渠道")).to_be_visible()
    expect(page.locator("li.home")).to_contain_text("gw-r001")
    accessible(page)
