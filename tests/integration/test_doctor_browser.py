"""The doctor's pages in a real headless Chromium: low pressure flagged with its source, codes in words,
sign-out, a report with title and signature line, the FHIR file as a named download, and axe-clean."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from firmware_sim import bp_history
from server import alarms as desk
from server.db.models import Resident
from tests.integration.browser import accessible, screenshot
from tests.integration.harness import provision, start_server

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def clinic(tmp_path, central_broker, receiver):
    """R001 with four weeks of low home pressure (around 92/58) and one false alarm."""
    server = start_server(tmp_path, central_broker.address)
    provision(server, 2, [receiver.url("/caregiver/{code}")])
    now = datetime.now(UTC)
    with server.services.sessions() as s, s.begin():
        r1 = s.scalars(select(Resident).where(Resident.code == "R001")).one()
        rows = bp_history.history(
            now.date() - timedelta(days=28),
            28,
            bp_history.Profile(systolic=92, diastolic=58),
            ZoneInfo("Asia/Shanghai"),
            seed=3,
        )
        bp_history.store(s, r1.id, "gw-r001", rows)
        alarm = desk.apply_gateway_alarm(
            s,
            "gw-r001",
            1,
            r1.id,
            {"type": "sos", "severity": "emergency"},
            now - timedelta(days=2),
            now - timedelta(days=2),
        ).alarm
        desk.resolve(s, alarm.id, "值班员", "false_alarm", None, now - timedelta(days=2))
    yield server
    server.stop()


def test_doctor_sees_low_pressure_flagged_and_prints_a_signed_report(browser, clinic):
    server = clinic
    page = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="zh-CN", bypass_csp=True, accept_downloads=True
    ).new_page()
    page.goto(f"{server.settings.base_url}/doctor")
    page.get_by_label("用户名").fill("doctor")
    page.get_by_label("密码").fill("anxin-demo")
    page.get_by_label("密码").press("Enter")
    expect(page.get_by_role("heading", name=re.compile("居民慢病风险列表"))).to_be_visible()
    row = page.locator("tr[data-resident='R001']")
    expect(row.locator(".badge.low_bp")).to_contain_text("低血压")
    expect(page.locator(".source").first).to_contain_text("中国高血压防治指南 2024")
    assert "cohort by risk" not in page.content()
    accessible(page)
    screenshot(page, "doctor-cohort", full_page=False)

    row.get_by_role("link", name="王秀英").click()
    expect(page.locator(".warnings .badge.low_bp")).to_be_visible()
    alarms = page.locator("table.alarms")
    expect(alarms).to_contain_text("紧急求助")
    expect(alarms).to_contain_text("误报")
    for raw in ("false_alarm", "emergency", ">sos<"):
        assert raw not in alarms.inner_html(), raw
    assert "see docs/trends.md" not in page.content()
    accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="FHIR R4").click()
    assert download.value.suggested_filename == "R001-fhir-bundle.json"

    page.get_by_role("link", name="可打印报告").click()
    expect(page.locator(".report-title")).to_contain_text("家庭血压报告")
    expect(page).to_have_title(re.compile(r"家庭血压报告 · 王秀英 · \d{4}-\d\d-\d\d – \d{4}-\d\d-\d\d"))
    expect(page.locator(".signoff")).to_contain_text("签名")
    accessible(page)
    screenshot(page, "doctor-report")

    page.go_back()
    # The language switch: English on this page and the next, axe-clean, then back to Chinese.
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Weekly means")).to_be_visible()
    expect(page.locator("table.alarms")).to_contain_text("False alarm")
    accessible(page)
    page.get_by_role("link", name="Anxin · Doctor").click()
    expect(page.get_by_role("heading", name=re.compile("Residents by chronic risk"))).to_be_visible()
    accessible(page)
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", name=re.compile("居民慢病风险列表"))).to_be_visible()
    page.get_by_role("button", name=re.compile("退出")).click()
    expect(page).to_have_url(re.compile(r"/console/login"))
    page.goto(f"{server.settings.base_url}/doctor")
    expect(page).to_have_url(re.compile(r"/console/login"))
