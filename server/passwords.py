"""The password policy: long enough, not among the commonest passwords, not the username."""

from __future__ import annotations

from functools import lru_cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from server.errors import ServerError

MIN_LENGTH = 10
# Common in China and missing from zxcvbn's (mostly English-language) list of 30,000 leaked passwords.
_CHINESE_COMMON = (
    "woaini1314",
    "woaini520",
    "5201314520",
    "1314520520",
    "1qaz2wsx3edc",
    "qwertyuiop",
    "a123456789",
    "aa12345678",
    "zxcvbnm123",
    "iloveyou1314",
    "1234567890",
    "0123456789",
    "abc1234567",
    "qq12345678",
    "admin12345",
    "anxin12345",
)


class WeakPassword(ServerError):
    """A password the policy refuses; the message says why, in words a person can act on."""


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"]) | frozenset(_CHINESE_COMMON)


def check_password(password: str, username: str) -> None:
    """Raise WeakPassword unless the password is at least 10 characters, uncommon and not the username."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"密码至少需要 {MIN_LENGTH} 个字符 / the password needs at least {MIN_LENGTH} characters")
    lowered = password.lower()
    if lowered in _common():
        raise WeakPassword("这是最常见的密码之一 / this is one of the most common passwords; choose another")
    name = username.strip().lower()
    if name and (lowered == name or (len(name) >= 3 and name in lowered)):
        raise WeakPassword("密码不能包含用户名 / the password must not contain the username")
