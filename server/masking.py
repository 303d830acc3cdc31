"""One place that hides secrets: apprise URLs (tokens, keys, passwords) and secret-looking fields."""

from __future__ import annotations

import logging
import re
from typing import Any

log = logging.getLogger(__name__)

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_SECRET_KEYS = re.compile(r"pass|secret|token|key|hash|totp", re.IGNORECASE)


def mask_url(url: str) -> str:
    """A notification URL as apprise's privacy form, without the query: safe for logs, records and the audit.

    apprise knows where each service keeps its secrets (Telegram bot tokens, Slack webhook parts, DingTalk
    and Aliyun secrets, passwords); a URL it does not understand keeps only its scheme.
    """
    import apprise

    scheme = _SCHEME.match(url)
    try:
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    except Exception:
        plugin = None
    if not plugin:
        return f"{scheme.group(1).lower()}://***" if scheme else "***"
    private = str(plugin.url(privacy=True))
    return private.split("?", 1)[0].rstrip("/") or "***"


def redact(value: Any) -> Any:
    """A copy of a record with URLs masked and secret-named fields replaced (for the audit's before/after)."""
    if isinstance(value, dict):
        return {k: ("***" if _SECRET_KEYS.search(str(k)) and v else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str) and _SCHEME.match(value):
        return mask_url(value)
    return value
