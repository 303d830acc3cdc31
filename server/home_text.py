"""Text that came from a home is data, never layout: one line, no control characters, no links of its own.

A device name travels up the uplink from whatever the home's bus said. Pasted as it is into a
caregiver's message it could add lines ("tap here: http://…") above the server's real link, forge
log lines, or run as a formula in a spreadsheet. Everything a home sent goes through here before it
reaches a notification, a log line or a CSV cell.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# A scheme (http://, tel:, sms: …), www., or something shaped like a domain with a path: a phone makes
# each of them tappable.
LINK = re.compile(
    r"(?i)\b(?:[a-z][a-z0-9+.-]{1,15}://\S+|(?:tel|sms|smsto|mailto|weixin|intent):\S+|www\.\S+"
    r"|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z][a-z0-9-]*/\S*"
    r"|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|cn|info|io|xyz|top|me|cc|co|app|link|site)\b)"
)
LINK_REMOVED = "[…]"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _printable(ch: str) -> str:
    category = unicodedata.category(ch)
    if category in ("Zl", "Zp") or ch in "\n\r\t\v\f":
        return " "
    if category in ("Cc", "Cf", "Cs", "Co", "Cn"):  # controls, bidi overrides, unassigned
        return ""
    return ch


def one_line(value: Any, limit: int | None = None) -> str:
    """A home's string as one plain line: control characters gone, line breaks as spaces, links removed."""
    text = "".join(_printable(ch) for ch in str(value))
    text = LINK.sub(LINK_REMOVED, " ".join(text.split()))
    return text if limit is None else text[:limit]


def for_log(value: Any, limit: int = 80) -> str:
    """A home's string for a log line: one line, so it cannot forge another."""
    return "".join(_printable(ch) for ch in str(value))[:limit]


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: a home's string starting like a formula gets a leading quote."""
    if not isinstance(value, str):
        return value
    text = " ".join("".join(_printable(ch) for ch in value).split())
    return "'" + text if text.startswith(FORMULA_START) else text
