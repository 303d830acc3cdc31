"""Staff sign-in: argon2 hashes, the OAuth2 password flow, bearer header or session cookie, roles."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.api.deps import CurrentStaff, permit
from server.auth import AuthError, TokenSigner, authenticate, hash_password, verify_password
from server.db.models import Staff
from server.services import Services
from tests.unit.server.conftest import login


def test_hash_is_argon2_and_verifies_only_the_right_password() -> None:
    h = hash_password("correct horse")
    assert h.startswith("$argon2id$") and "correct horse" not in h
    assert verify_password(h, "correct horse")
    assert not verify_password(h, "wrong horse")
    assert not verify_password("not a hash", "correct horse")


def test_import_hashes_plain_passwords(services: Services) -> None:
    with services.sessions() as s:
        rows = {st.username: st for st in s.scalars(select(Staff))}
        assert set(rows) == {"duty", "supervisor", "doctor", "admin"}
        assert all(r.password_hash.startswith("$argon2id$") for r in rows.values())
        assert authenticate(s, "doctor", "anxin-demo").role == "doctor"
        with pytest.raises(AuthError):
            authenticate(s, "doctor", "anxin-dem0")
        with pytest.raises(AuthError):
            authenticate(s, "nobody", "anxin-demo")


def test_password_flow_gives_a_token_that_identifies_the_user(client: TestClient) -> None:
    r = client.post("/api/v1/auth/token", data={"username": "duty", "password": "anxin-demo"})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["staff"]["role"] == "staff"
    client.cookies.clear()
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["display_name"] == "值班员 赵敏"


def test_wrong_password_is_401_with_the_same_message_as_unknown_user(client: TestClient) -> None:
    a = client.post("/api/v1/auth/token", data={"username": "duty", "password": "nope"})
    b = client.post("/api/v1/auth/token", data={"username": "ghost", "password": "nope"})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()
    assert a.headers["www-authenticate"] == "Bearer"


def test_session_cookie_signs_in_server_rendered_pages(client: TestClient) -> None:
    signed = client.post("/api/v1/auth/token", data={"username": "admin", "password": "anxin-demo"})
    assert "anxin_session" in client.cookies
    assert client.get("/api/v1/auth/me").json()["username"] == "admin"
    # A state change made with the cookie alone carries the session's CSRF token.
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": signed.json()["csrf_token"]})
    assert client.get("/api/v1/auth/me").status_code == 401


def test_forged_expired_and_disabled_tokens_are_refused(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.cookies.clear()
    forged = TokenSigner("another-secret", 3600)
    with services.sessions() as s:
        duty = s.scalars(select(Staff).where(Staff.username == "duty")).one()
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged.issue(duty)}"}).status_code == 401
    import itsdangerous.timed

    real_time = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() - services.tokens.ttl_s - 60)
    expired = TokenSigner("test-secret-of-16-chars", 3600).issue(duty)
    monkeypatch.undo()
    r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    headers = login(client, "duty")
    with services.sessions() as s, s.begin():
        s.get(Staff, duty.id).active = False
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_require_roles_gives_403_to_the_wrong_role(services: Services) -> None:
    app = FastAPI()
    app.state.services = services

    @app.get("/admin-only")
    def admin_only(staff: CurrentStaff, _: object = Depends(permit("staff.manage"))) -> str:
        return staff.username

    with TestClient(app) as c:
        assert c.get("/admin-only").status_code == 401
        doctor = c.post("/api/v1/auth/token", data={"username": "x", "password": "y"})  # no such route here
        assert doctor.status_code == 404
        tokens = services.tokens
        with services.sessions() as s:
            rows = {st.username: st for st in s.scalars(select(Staff))}
        r = c.get("/admin-only", headers={"Authorization": f"Bearer {tokens.issue(rows['doctor'])}"})
        assert r.status_code == 403 and "admin" in r.json()["detail"]
        c.cookies.clear()
        assert (
            c.get("/admin-only", headers={"Authorization": f"Bearer {tokens.issue(rows['admin'])}"}).text == '"admin"'
        )


def test_create_user_command(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/cli.db"
    cmd = [
        sys.executable,
        "-m",
        "server",
        "--database-url",
        db,
        "create-user",
        "nurse",
        "--role",
        "doctor",
        "--display-name",
        "Nurse Li",
        "--password-stdin",
    ]
    done = subprocess.run(cmd, input="long-enough-pw\n", capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    short = subprocess.run(cmd, input="short\n", capture_output=True, text=True, timeout=60)
    assert short.returncode == 2 and "10 characters" in short.stderr
    from server.db.session import make_engine, session_factory

    engine = make_engine(db)
    with session_factory(engine)() as s:
        assert authenticate(s, "nurse", "long-enough-pw").display_name == "Nurse Li"
    engine.dispose()
