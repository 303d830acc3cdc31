"""Headless Debian Chromium driven by Playwright, and a resident whose card has something to show."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from firmware_sim.installation import DEMO_PASSWORD
from server.db.models import Alarm, Caregiver, Reading, Resident
from server.runtime import ServerRuntime
from tests.integration.axe import violations

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # The console's alert must sound without a click first, as it does once staff have clicked anything.
    "--autoplay-policy=no-user-gesture-required",
]
ROOT = Path(__file__).resolve().parents[2]
# Every run saves its screenshots under tests/artifacts/console/; with ANXIN_UPDATE_SCREENSHOTS=1 they
# replace the ones shown in docs/console.md (kept out of ordinary runs so the work tree stays clean).
SCREENSHOTS = ROOT / "tests" / "artifacts" / "console"
DOC_SCREENSHOTS = ROOT / "docs" / "console"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def launch(playwright):  # type: ignore[no-untyped-def]
    """Chromium from the Debian package: no browser download."""
    if not CHROMIUM.exists():
        pytest.fail("chromium is not installed: run scripts/test.sh, or apt-get install chromium fonts-wqy-microhei")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


def screenshot(page, name: str, folder: str = "console", full_page: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Save the screen (and, when asked, refresh the copy shown in docs/<folder>.md)."""
    saved, shown = SCREENSHOTS.parent / folder, DOC_SCREENSHOTS.parent / folder
    saved.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(saved / f"{name}.png"), full_page=full_page)
    if os.environ.get("ANXIN_UPDATE_SCREENSHOTS") == "1":
        shown.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shown / f"{name}.png"), full_page=full_page)


def enrich_first_resident(server: ServerRuntime) -> None:
    """Phone numbers, medication and blood-pressure readings for resident R001, as a real card has."""
    now = datetime.now(UTC)
    with server.services.sessions() as s, s.begin():
        resident = s.scalars(select(Resident).where(Resident.code == "R001")).one()
        resident.phone = "010-6612 3456"
        resident.medication = ["氨氯地平 5 mg 每日一次", "二甲双胍 500 mg 每日两次"]
        for cg in s.scalars(select(Caregiver)):
            cg.phone = "138 0013 8000"
        for day, (sys_, dia, pulse) in enumerate([(152, 92, 78), (138, 86, 72), (131, 82, 70)]):
            s.add(
                Reading(
                    resident_id=resident.id,
                    gateway_id="gw-r001",
                    device="bp-monitor",
                    metric="blood_pressure",
                    ts=now - timedelta(days=day, hours=2),
                    values={"systolic": sys_, "diastolic": dia, "pulse": pulse},
                )
            )


def seed_history(server: ServerRuntime) -> None:
    """Fifty answered alarms over the past five days: 48 within 60 s, one at 75 s, one at 200 s."""
    now = datetime.now(UTC)
    with server.services.sessions() as s, s.begin():
        resident = s.scalars(select(Resident).where(Resident.code == "R002")).one()
        for i in range(50):
            raised = now - timedelta(days=1 + i // 10, minutes=7 * i)
            wait = {13: 75, 34: 200}.get(i, 20 + i % 30)
            by = ("值班员 赵敏", "主管 孙强")[i % 2]
            s.add(
                Alarm(
                    resident_id=resident.id,
                    gateway_id="gw-r002",
                    type="sos",
                    severity="emergency",
                    status="resolved",
                    raised_at=raised,
                    updated_at=raised + timedelta(seconds=wait),
                    acknowledged_at=raised + timedelta(seconds=wait),
                    acknowledged_by=by,
                    acknowledged_via="console",
                    resolved_at=raised + timedelta(minutes=5),
                    outcome="false_alarm",
                )
            )


WAIT_MS = 15_000
NIGHT_DESK = {"width": 1366, "height": 768}  # the duty desk's laptop


def accessible(page) -> None:  # type: ignore[no-untyped-def]
    """No axe-core WCAG 2 A/AA violation on the page as it is now."""
    found = violations(page)
    assert found == [], f"axe-core: {found}"


def sign_in(browser, server: ServerRuntime, username: str, start: str = "/console"):  # type: ignore[no-untyped-def]
    """Signed in at the duty desk's 1366×768, on `start`, with the live connection up."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport=NIGHT_DESK, locale="zh-CN", bypass_csp=True).new_page()
    page.goto(f"{server.settings.base_url}{start}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_label("密码").press("Enter")
    expect(page.locator("body[data-connected='1']")).to_be_attached(timeout=WAIT_MS)
    return page


def sign_in_desktop(browser, server: ServerRuntime, username: str, path: str):  # type: ignore[no-untyped-def]
    """Signed in on a 1280-wide desktop, on `path` (not waiting for the live connection)."""
    page = browser.new_context(viewport=DESKTOP, locale="zh-CN", bypass_csp=True).new_page()
    page.goto(f"{server.settings.base_url}{path}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_label("密码").press("Enter")
    return page
