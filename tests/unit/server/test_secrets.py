"""The signing secret: kept by a single node, shared by split roles, never a published default."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from server.links import LinkClaim
from server.runtime import build_runtime
from server.secret_key import SecretKeyError, resolve
from server.settings import ServerSettings

SHARED = "a-shared-secret-for-every-process"


def settings(tmp_path: Path, **kw: object) -> ServerSettings:
    return ServerSettings(_env_file=None, database_url=f"sqlite:///{tmp_path}/s.db", embedded_broker=False, **kw)


def test_a_single_node_creates_its_key_once_private_and_keeps_it(tmp_path: Path) -> None:
    first = resolve(settings(tmp_path))
    key = tmp_path / "anxin-secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert resolve(settings(tmp_path)) == first, "a restart keeps the links already sent valid"
    old = build_runtime(settings(tmp_path)).services.signer.sign(LinkClaim(1, 1))
    assert build_runtime(settings(tmp_path)).services.signer.check(old).alarm_id == 1


@pytest.mark.parametrize("role", ["ingest", "api"])
def test_split_roles_refuse_to_start_without_a_shared_key(tmp_path: Path, role: str) -> None:
    with pytest.raises(SecretKeyError, match="ANXIN_SECRET_KEY"):
        build_runtime(settings(tmp_path, role=role))


def test_a_link_the_ingest_process_signs_opens_on_the_api_process(tmp_path: Path) -> None:
    ingest = build_runtime(settings(tmp_path, role="ingest", secret_key=SHARED))
    api = build_runtime(settings(tmp_path, role="api", secret_key=SHARED))
    link = ingest.services.signer.sign(LinkClaim(7, 3))
    assert api.services.signer.check(link).caregiver_id == 3


def test_postgresql_needs_a_key_and_known_defaults_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError, match="postgresql deployment needs ANXIN_SECRET_KEY"):
        resolve(ServerSettings(_env_file=None, database_url="postgresql://anxin@127.0.0.1/anxin"))
    for weak in ("change-me-in-production", "CHANGE-ME", "short"):
        with pytest.raises(SecretKeyError):
            resolve(settings(tmp_path, secret_key=weak))


def test_the_command_line_says_why_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ANXIN_SECRET_KEY"}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "server",
            "--database-url",
            f"sqlite:///{tmp_path}/c.db",
            "run",
            "--role",
            "api",
            "--port",
            "0",
            "--no-embedded-broker",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "--role api needs ANXIN_SECRET_KEY" in out.stderr
    env["ANXIN_SECRET_KEY"] = "change-me-in-production"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "server",
            "--database-url",
            f"sqlite:///{tmp_path}/c.db",
            "run",
            "--port",
            "0",
            "--no-embedded-broker",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 2 and "published default" in out.stderr
