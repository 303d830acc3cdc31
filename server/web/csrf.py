"""CSRF tokens bound to the session: an HMAC of the session token under the server's secret.

A page from another origin (even a same-site one: a sibling subdomain, another port of the host) can make a
signed-in browser send the session cookie, but it cannot read that HttpOnly cookie nor compute this token,
so every state-changing request made with the cookie must carry the token (form field or header).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

FIELD = "csrf_token"
HEADER = "x-csrf-token"


def token_for(secret: str, session_token: str) -> str:
    """The token forms of this session carry."""
    return hmac.new(secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def is_valid(secret: str, session_token: str, offered: str | None) -> bool:
    """Whether the offered token belongs to this session (constant-time)."""
    return bool(offered) and hmac.compare_digest(token_for(secret, session_token), offered or "")


def for_session(secret: str, session_token: str | None) -> str:
    """The token a page's forms carry: empty without a session (a request without one has nothing to ride on)."""
    return token_for(secret, session_token) if session_token else ""


def own_fields(form: Mapping[str, Any]) -> dict[str, Any]:
    """A posted form's own fields: the token was checked by the guard (server/web/guard.py) and is no input."""
    return {k: v for k, v in form.items() if k != FIELD}
