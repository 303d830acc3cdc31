"""The server's signing secret: given and shared by every process, or created once in the data directory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

from server.db.session import missing_directory
from server.errors import DatabaseUnavailable, ServerError
from server.settings import ServerSettings

KEY_FILE = "anxin-secret.key"
MIN_LENGTH = 16
# Values that shipped in examples, compose files or docs: anyone can forge tokens and caregiver links with them.
KNOWN_DEFAULTS = frozenset(
    {
        "change-me-in-production",
        "change-me",
        "changeme",
        "secret",
        "anxin",
        "anxin-secret",
        "anxin-dev-token-change-me",
        "anxin-change-me",
        "password",
        "test",
        "development",
    }
)
GENERATE = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


class SecretKeyError(ServerError):
    """The server cannot start with this secret (or without one)."""


def check_given(secret: str) -> None:
    """Refuse known defaults and secrets too short to resist guessing."""
    if secret.strip().lower() in KNOWN_DEFAULTS:
        raise SecretKeyError(f"ANXIN_SECRET_KEY is a published default; generate one with: {GENERATE}")
    if len(secret) < MIN_LENGTH:
        raise SecretKeyError(f"ANXIN_SECRET_KEY needs at least {MIN_LENGTH} characters; generate one with: {GENERATE}")


def resolve(settings: ServerSettings) -> str:
    """The secret to sign with; creates `anxin-secret.key` (mode 0600) beside a single node's SQLite file."""
    if settings.secret_key:
        check_given(settings.secret_key)
        return settings.secret_key
    if settings.role != "all":
        raise SecretKeyError(
            f"--role {settings.role} needs ANXIN_SECRET_KEY, the same in every server process "
            f"(staff tokens and caregiver links are signed with it); generate one with: {GENERATE}"
        )
    url = make_url(settings.database_url)
    if not url.drivername.startswith("sqlite"):
        raise SecretKeyError(
            f"a {url.get_backend_name()} deployment needs ANXIN_SECRET_KEY shared by its server "
            f"processes; generate one with: {GENERATE}"
        )
    if not url.database or url.database == ":memory:":
        return secrets.token_urlsafe(32)  # an in-memory database forgets its tokens' accounts anyway
    if reason := missing_directory(url):  # the key lives beside the database: say what is wrong in one line
        raise DatabaseUnavailable(reason)
    return _key_file(Path(url.database).resolve().parent / KEY_FILE)


def _key_file(path: Path) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text(encoding="ascii").strip()
        check_given(secret)
        return secret
    with os.fdopen(fd, "w", encoding="ascii") as f:
        secret = secrets.token_urlsafe(32)
        f.write(secret + "\n")
    return secret
