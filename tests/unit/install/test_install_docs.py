"""One set of extras names everywhere: what the README, the docs, the scripts and the Dockerfile tell
people to install exists in pyproject.toml, and the test script installs what the docs promise."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
EXTRAS = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
PLACES = [
    ROOT / "README.md",
    ROOT / "Dockerfile",
    ROOT / "deploy" / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "scripts").glob("*.sh")),
]
PIP_INSTALL = re.compile(r"pip install ([^`\n#]*)")


def installs() -> list[tuple[str, str]]:
    """(file, what follows `pip install`) for every install command a person or script runs."""
    return [
        (p.relative_to(ROOT).as_posix(), m.group(1).strip())
        for p in PLACES
        for m in PIP_INSTALL.finditer(p.read_text(encoding="utf-8"))
    ]


def test_every_extra_named_exists():
    named = {
        (where, extra.strip())
        for where, cmd in installs()
        for group in re.findall(r"\.\[([^\]]+)\]", cmd)
        for extra in group.split(",")
    }
    assert named, "no install command found: the pattern no longer matches the docs"
    assert {(w, e) for w, e in named if e not in EXTRAS} == set(), f"extras are {sorted(EXTRAS)}"


def test_the_project_is_installed_from_the_checkout_never_by_name_from_an_index():
    for where, cmd in installs():
        if "--upgrade pip" in cmd:
            continue  # pip itself
        args = [a for a in cmd.split() if not a.startswith(("-", ">"))]
        assert all(a.startswith((".", "/", '"', "'", "$")) for a in args), (where, cmd)


def test_the_test_script_installs_what_the_docs_promise():
    script = (ROOT / "scripts" / "test.sh").read_text()
    [extras] = re.findall(r"^ensure_venv (\S+)$", script, re.M)
    assert set(extras.split(",")) == {"server", "gateway", "test", "bench", "check"}
    for doc in ("README.md", "docs/performance.md"):
        assert f".[{extras}]" in (ROOT / doc).read_text(), doc
