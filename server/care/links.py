"""Signed links for helpers: the link is the key to their own list and calendar, nothing else."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from server.care.errors import CareError


class BadHelperLink(CareError):
    """A helper link that was tampered with or has expired."""


class HelperLinks:
    """Signs and checks helper links with the server's secret (a salt of their own: not an ack link)."""

    def __init__(self, secret: str, ttl_s: int) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="anxin-helper-link")
        self._ttl = ttl_s

    def sign(self, helper_id: int) -> str:
        """The token for /h/{token}."""
        return self._s.dumps({"h": helper_id})

    def check(self, token: str) -> int:
        """The helper id in a valid token; raises BadHelperLink."""
        try:
            return int(self._s.loads(token, max_age=self._ttl)["h"])
        except SignatureExpired as exc:
            raise BadHelperLink("this link has expired; ask the coordinator for a new one") from exc
        except (BadSignature, KeyError, TypeError, ValueError) as exc:
            raise BadHelperLink("this link is not valid") from exc
