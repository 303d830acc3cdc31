"""The findings of the security review (issue 15), each as the behaviour a user or an attacker would notice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.db.models import Caregiver, Resident, Staff
from server.db.models_security import AuditEntry
from server.errors import ProvisionError
from server.masking import mask_url
from server.permissions import PERMISSIONS, ROLES, allowed, markdown_table
from server.provision import ProvisionFile, StaffIn, apply
from server.services import Services, utc_now
from server.throttle import ADDRESS_FAILURES
from tests.unit.server.conftest import login

ROOT = Path(__file__).resolve().parents[3]


def token_of(client: TestClient, username: str, password: str = "anxin-demo") -> str:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return r.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audit_actions(services: Services) -> list[tuple[str, str | None, str | None]]:
    with services.sessions() as s:
        return [(e.action, e.actor, e.target) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


# --- accounts: throttling, sessions, password policy -------------------------------------------------------


def test_brute_force_from_one_address_is_refused_even_with_the_right_password(
    client: TestClient, services: Services
) -> None:
    services.throttle.max_delay_s = 0.01  # the per-account delay is tested on its own below
    services.settings.trusted_proxies = ["testclient"]
    attacker = {"X-Forwarded-For": "203.0.113.7"}
    for _ in range(ADDRESS_FAILURES):
        r = client.post("/api/v1/auth/token", data={"username": "duty", "password": "guess-guess"}, headers=attacker)
        assert r.status_code == 401
    right = client.post("/api/v1/auth/token", data={"username": "duty", "password": "anxin-demo"}, headers=attacker)
    assert right.status_code == 429 and 0 < int(right.headers["Retry-After"]) <= 15 * 60
    # the account itself is never locked: the duty officer on another terminal signs in during the emergency
    other = client.post(
        "/api/v1/auth/token",
        data={"username": "duty", "password": "anxin-demo"},
        headers={"X-Forwarded-For": "10.0.0.5"},
    )
    assert other.status_code == 200
    # the console's form is throttled alike, and says so in both languages
    page = client.post("/console/login", data={"username": "duty", "password": "anxin-demo"}, headers=attacker)
    assert page.status_code == 429 and "Retry-After" in page.headers and "登录失败次数过多" in page.text
    # after the window the address may try again
    later = utc_now() + timedelta(minutes=16)
    services.throttle.clock = lambda: later
    assert (
        client.post(
            "/api/v1/auth/token", data={"username": "duty", "password": "anxin-demo"}, headers=attacker
        ).status_code
        == 200
    )
    metrics = client.get("/metrics").text
    assert 'anxin_logins_total{outcome="throttled"} 2.0' in metrics
    assert f'anxin_logins_total{{outcome="failed"}} {float(ADDRESS_FAILURES)}' in metrics
    failed = [a for a in audit_actions(services) if a[0] == "login.failed"]
    assert len(failed) == ADDRESS_FAILURES and all(a[1] == "duty" for a in failed)


def test_failures_on_one_account_add_a_growing_delay_but_no_lock(services: Services) -> None:
    t = services.throttle
    delays = []
    for _ in range(8):
        delays.append(t.account_delay("duty"))
        t.failed(f"10.0.0.{len(delays)}", "duty")
    assert delays == [0, 0, 0, 1, 2, 4, 8, 8]
    t.succeeded("duty")
    assert t.account_delay("duty") == 0


def test_logout_ends_the_bearer_token_and_the_cookie_at_once(client: TestClient) -> None:
    token = token_of(client, "duty")
    cookie_client = TestClient(client.app)
    signed = cookie_client.post("/api/v1/auth/token", data={"username": "duty", "password": "anxin-demo"})
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    assert cookie_client.get("/api/v1/auth/me").status_code == 401, "the other terminal's cookie ended too"
    assert cookie_client.get("/console", follow_redirects=False).status_code == 303
    assert signed.status_code == 200


def test_a_password_change_ends_the_old_token_and_the_policy_applies(client: TestClient) -> None:
    token = token_of(client, "duty")
    weak = client.post(
        "/api/v1/auth/password", json={"current": "anxin-demo", "new": "password123"}, headers=bearer(token)
    )
    assert weak.status_code == 422 and "common" in weak.text
    named = client.post(
        "/api/v1/auth/password", json={"current": "anxin-demo", "new": "duty-is-my-name"}, headers=bearer(token)
    )
    assert named.status_code == 422 and "username" in named.text
    r = client.post(
        "/api/v1/auth/password", json={"current": "anxin-demo", "new": "Lotus-river-1936"}, headers=bearer(token)
    )
    assert r.status_code == 204
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    assert client.post("/api/v1/auth/token", data={"username": "duty", "password": "anxin-demo"}).status_code == 401
    new = client.post("/api/v1/auth/token", data={"username": "duty", "password": "Lotus-river-1936"})
    assert new.status_code == 200


def test_an_admin_disables_enables_and_resets_an_account(client: TestClient, services: Services) -> None:
    duty = token_of(client, "duty")
    admin = bearer(token_of(client, "admin"))
    assert client.post("/api/v1/staff/duty/disable", headers=bearer(duty)).status_code == 403
    assert client.post("/api/v1/staff/duty/disable", headers=admin).json()["active"] is False
    assert client.get("/api/v1/auth/me", headers=bearer(duty)).status_code == 401
    assert client.post("/api/v1/auth/token", data={"username": "duty", "password": "anxin-demo"}).status_code == 401
    assert client.post("/api/v1/staff/duty/enable", headers=admin).json()["active"] is True
    assert client.post("/api/v1/staff/duty/password", json={"password": "12345678"}, headers=admin).status_code == 422
    assert (
        client.post("/api/v1/staff/duty/password", json={"password": "Plum-blossom-77"}, headers=admin).status_code
        == 200
    )
    reset = client.post("/api/v1/auth/token", data={"username": "duty", "password": "Plum-blossom-77"})
    assert reset.status_code == 200
    assert client.post("/api/v1/staff/admin/disable", headers=admin).status_code == 422, "not oneself"
    assert [a[0] for a in audit_actions(services) if a[0].startswith("staff.")] == [
        "staff.disable",
        "staff.enable",
        "staff.password_reset",
    ]


def test_import_refuses_weak_passwords(services: Services) -> None:
    for bad in ("x", "12345678", "password123", "nurse-li-2024"):
        with pytest.raises(ProvisionError), services.sessions() as s, s.begin():
            apply(s, ProvisionFile(staff=[StaffIn(username="nurse-li", role="admin", password=bad)]))
    with services.sessions() as s, s.begin():
        apply(s, ProvisionFile(staff=[StaffIn(username="nurse-li", role="admin", password="Quiet-harbour-8")]))


# --- roles, stated once -------------------------------------------------------------------------------------


def test_the_permission_table_is_the_one_in_the_operations_guide() -> None:
    assert markdown_table() in (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert set(ROLES) >= {"coordinator", "helper"}
    assert all(set(roles) <= set(ROLES) for roles in PERMISSIONS.values())
    assert not allowed("supervisor", "pairing.write") and not allowed("supervisor", "channels.write")
    assert not allowed("doctor", "rules.safety") and allowed("supervisor", "rules.safety")


def test_a_supervisor_cannot_change_a_caregivers_channel(client: TestClient, services: Services) -> None:
    client.post("/console/login", data={"username": "supervisor", "password": "anxin-demo"})
    from server.web import csrf

    headers = {"X-CSRF-Token": csrf.token_for(services.settings.secret_key or "", client.cookies["anxin_session"])}
    r = client.post(
        "/console/admin/pairings",
        headers=headers,
        follow_redirects=False,
        data={"resident": "R001", "code": "C001", "name": "李伟", "notify_url": "json://attacker.example/x"},
    )
    assert r.status_code == 403
    assert 'action="/console/admin/pairings"' not in client.get("/console/admin").text
    with services.sessions() as s:
        assert s.scalars(select(Caregiver).where(Caregiver.code == "C001")).one().notify_urls == [
            "json://127.0.0.1:9000/caregiver/C001"
        ]
    assert (
        client.put(
            "/api/v1/residents/1/pairings",
            headers={**headers, **login(client, "supervisor")},
            json=[{"caregiver_code": "C002"}],
        ).status_code
        == 403
    )


def test_a_doctor_cannot_switch_fall_detection_off_and_a_supervisor_must_say_why(
    client: TestClient, services: Services
) -> None:
    off = {"version": 2, "rules": {"fall": {"enabled": False}}}
    doctor = login(client, "doctor")
    assert client.post("/api/v1/gateways/gw-r001/rules", json=off, headers=doctor).status_code == 403
    assert (
        client.post("/api/v1/gateways/gw-r001/mode", json={"away": True, "reason": "x"}, headers=doctor).status_code
        == 403
    )
    supervisor = login(client, "supervisor")
    assert client.post("/api/v1/gateways/gw-r001/rules", json=off, headers=supervisor).status_code == 422
    r = client.post(
        "/api/v1/gateways/gw-r001/rules", json={**off, "reason": "radar being replaced"}, headers=supervisor
    )
    assert r.status_code == 202
    # thresholds stay the clinicians' to set
    bp = {"version": 3, "rules": {"blood_pressure": {"confirm_window_s": 300}}}
    assert client.post("/api/v1/gateways/gw-r001/rules", json=bp, headers=doctor).status_code == 202
    assert (
        client.post(
            "/api/v1/gateways/gw-r001/rules", json={"version": 10**23, "rules": {}}, headers=supervisor
        ).status_code
        == 422
    )
    with services.sessions() as s:
        push = s.scalars(select(AuditEntry).where(AuditEntry.action == "rules.push")).first()
        assert push is not None and push.actor == "supervisor" and push.reason == "radar being replaced"
        assert push.after is not None and push.after["disabled"] == ["fall"]


# --- audit --------------------------------------------------------------------------------------------------


def test_reads_of_health_data_and_changes_are_audited_and_only_admins_read_the_audit(
    client: TestClient, services: Services
) -> None:
    admin = login(client, "admin")
    client.cookies.clear()
    rid = client.get("/api/v1/residents", headers=admin).json()[0]["id"]
    assert client.get(f"/api/v1/residents/{rid}", headers=admin).status_code == 200
    doctor = login(client, "doctor")
    client.cookies.clear()
    assert client.get("/api/v1/trends/residents/R001/fhir", headers=doctor).status_code == 200
    assert client.get("/api/v1/trends/residents/R001/readings.csv", headers=doctor).status_code == 200
    client.put(f"/api/v1/residents/{rid}/pairings", headers=admin, json=[{"caregiver_code": "C002"}])
    assert client.get("/api/v1/admin/audit", headers=login(client, "duty")).status_code == 403
    client.cookies.clear()
    entries = client.get("/api/v1/admin/audit", headers=admin).json()
    seen = {(e["action"], e["actor"], e["target"]) for e in entries}
    assert {
        ("resident_card.read", "admin", "R001"),
        ("trends.export_fhir", "doctor", "R001"),
        ("trends.export_csv", "doctor", "R001"),
        ("pairing.write", "admin", "R001"),
    } <= seen
    pairing = next(e for e in entries if e["action"] == "pairing.write")
    assert [p["caregiver_code"] for p in pairing["before"]["pairings"]] == ["C001", "C002"]
    assert [p["caregiver_code"] for p in pairing["after"]["pairings"]] == ["C002"]
    assert all(e["source"] == "testclient" for e in entries if e["actor"] in ("admin", "doctor"))
    csv_text = client.get("/api/v1/admin/audit.csv", headers=admin).text
    assert csv_text.startswith("id,at,actor") and "trends.export_fhir" in csv_text


@pytest.mark.parametrize(
    "url, secret",
    [
        ("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/987654321", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general", "TIiajkdnlazkcOXrIdevi7FQ"),
        ("feishu://d4a3b7c6e9f0a1b2c3d4e5f6a7b8c9d0", "d4a3b7c6e9f0a1b2c3d4e5f6a7b8c9d0"),
        ("json://hooks.example.com/anxin?token=s3cr3tT0ken", "s3cr3tT0ken"),
        ("dingtalk://8c5f6c4b1a2d3e4f5a6b7c8d9e0f1a2b/?secret=SECabcdef123456", "SECabcdef123456"),
        ("dingtalk://8c5f6c4b1a2d3e4f5a6b7c8d9e0f1a2b/?secret=SECabcdef123456", "8c5f6c4b1a2d3e4f5a6b7c8d9e0f1a2b"),
        ("aliyun://LTAI5tKeyId/AliSecretValue123/AnxinSign/SMS_123456/13800138000", "AliSecretValue123"),
        ("wecombot://693axxx6-7aba-47da-a7f5-23e8e0bd6f25", "693axxx6-7aba-47da-a7f5-23e8e0bd6f25"),
        ("mailto://duty:mailpass99@example.com", "mailpass99"),
    ],
)
def test_one_mask_hides_every_channels_secret(url: str, secret: str) -> None:
    masked = mask_url(url)
    assert secret not in masked and masked.split("://")[0] == url.split("://")[0]


# --- pages --------------------------------------------------------------------------------------------------


def test_every_response_carries_security_headers_and_personal_pages_are_not_cached(client: TestClient) -> None:
    login(client, "duty")
    for path in ("/console", "/console/login", "/api/v1/auth/me", "/c/not-a-link", "/doctor", "/metrics"):
        r = client.get(path, follow_redirects=False)
        h = r.headers
        assert "frame-ancestors 'none'" in h["content-security-policy"], path
        assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"] == "no-referrer", path
        assert h["cache-control"] == "no-store", path
    assert client.get("/static/anxin.css").headers.get("cache-control") != "no-store"


def test_the_session_cookie_is_secure_behind_a_trusted_https_proxy_only(client: TestClient, services: Services) -> None:
    form = {"username": "duty", "password": "anxin-demo"}
    https = {"X-Forwarded-Proto": "https"}
    assert "secure" not in client.post("/api/v1/auth/token", data=form, headers=https).headers["set-cookie"].lower()
    services.settings.trusted_proxies = ["testclient"]
    assert "secure" in client.post("/api/v1/auth/token", data=form, headers=https).headers["set-cookie"].lower()


def test_a_large_body_is_refused_before_authentication(client: TestClient) -> None:
    big = b"[" + b"1," * (1024 * 1024) + b"1]"
    r = client.post("/api/v1/gateways/gw-r001/rules", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_a_state_change_riding_on_the_cookie_needs_the_csrf_token(client: TestClient, services: Services) -> None:
    client.post("/console/login", data={"username": "supervisor", "password": "anxin-demo"})
    assert client.post("/console/admin/residents", data={"code": "R9", "name": "x"}).status_code == 403
    assert client.post("/api/v1/auth/logout").status_code == 403
    with services.sessions() as s:
        assert s.scalars(select(Resident).where(Resident.code == "R9")).first() is None
        assert s.scalars(select(Staff).where(Staff.username == "supervisor")).one().session_version == 0


def test_an_administrator_can_require_a_one_time_code(client: TestClient) -> None:
    from urllib.parse import parse_qs, urlparse

    import pyotp

    admin = bearer(token_of(client, "admin"))
    assert client.post("/api/v1/auth/totp/setup", headers=bearer(token_of(client, "doctor"))).status_code == 403
    uri = client.post("/api/v1/auth/totp/setup", headers=admin).json()["otpauth_uri"]
    code = pyotp.TOTP(parse_qs(urlparse(uri).query)["secret"][0])
    assert (
        client.post(
            "/api/v1/auth/totp/confirm", json={"code": "000000" if code.now() != "000000" else "111111"}, headers=admin
        ).status_code
        == 422
    )
    assert client.post("/api/v1/auth/totp/confirm", json={"code": code.now()}, headers=admin).status_code == 204
    form = {"username": "admin", "password": "anxin-demo"}
    assert client.post("/api/v1/auth/token", data=form).status_code == 401, "the password alone is not enough"
    assert client.post("/api/v1/auth/token", data={**form, "totp": code.now()}).status_code == 200
    page = client.post("/console/login", data={**form, "totp": code.now()}, follow_redirects=False)
    assert page.status_code == 303


def test_the_command_line_account_actions_end_sessions_and_are_audited(tmp_path: Path) -> None:
    import subprocess
    import sys

    db = f"sqlite:///{tmp_path}/cli.db"

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "server", "--database-url", db, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert cli("create-user", "boss", "--role", "admin", "--password-stdin", stdin="12345678\n").returncode == 2
    assert cli("create-user", "boss", "--role", "admin", "--password-stdin", stdin="Maple-lantern-42\n").returncode == 0
    assert cli("disable-user", "boss").returncode == 0
    assert cli("reset-password", "boss", "--password-stdin", stdin="boss-boss-boss\n").returncode == 2
    assert cli("reset-password", "boss", "--password-stdin", stdin="Cedar-window-77\n").returncode == 0
    assert cli("enable-user", "boss").returncode == 0
    from server.auth import authenticate
    from server.db.session import make_engine, session_factory

    engine = make_engine(db)
    with session_factory(engine)() as s:
        staff = authenticate(s, "boss", "Cedar-window-77")
        assert staff.active and staff.session_version == 2  # disabled once, password reset once
        actions = [e.action for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    engine.dispose()
    assert actions == ["staff.create_user", "staff.disable-user", "staff.reset-password", "staff.enable-user"]
