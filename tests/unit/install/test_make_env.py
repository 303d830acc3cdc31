"""`scripts/make-env.sh` writes every secret docker-compose.yml reads, fresh, private, and only once."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _make_env(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(tree / "scripts" / "make-env.sh")], capture_output=True, text=True, timeout=60)


def test_make_env_writes_every_compose_secret_once_and_privately(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "make-env.sh", tmp_path / "scripts" / "make-env.sh")
    assert _make_env(tmp_path).returncode == 0
    env_file = tmp_path / ".env"
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if line and not line.startswith("#"))
    wanted = set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "docker-compose.yml").read_text()))
    assert wanted and wanted <= set(values), f"compose reads secrets .env lacks: {wanted - set(values)}"
    assert all(len(v) >= 32 for v in values.values()), "a secret shorter than 32 characters"
    assert len(set(values.values())) == len(values), "two secrets are the same"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    before = env_file.read_text()
    again = _make_env(tmp_path)
    assert again.returncode == 0 and "keeping it" in again.stderr
    assert env_file.read_text() == before, "a second run replaced the secrets (every session and link would end)"
