"""Signed, expiring one-tap acknowledgement links, valid for one alarm and one caregiver."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from server.errors import ServerError


class BadLink(ServerError):
    """A link that was tampered with, has expired, or is for another alarm."""


@dataclass(frozen=True, slots=True)
class LinkClaim:
    """Who may acknowledge which alarm."""

    alarm_id: int
    caregiver_id: int


class LinkSigner:
    """Signs and checks caregiver links with the server's secret key."""

    def __init__(self, secret: str, ttl_s: int) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="anxin-ack-link")
        self._ttl = ttl_s

    def sign(self, claim: LinkClaim) -> str:
        """A token for the URL."""
        return self._s.dumps([claim.alarm_id, claim.caregiver_id])

    def check(self, token: str) -> LinkClaim:
        """The claim in a token; raises BadLink."""
        try:
            alarm_id, caregiver_id = self._s.loads(token, max_age=self._ttl)
        except SignatureExpired as exc:
            raise BadLink("this link has expired") from exc
        except (BadSignature, ValueError, TypeError) as exc:
            raise BadLink("this link is not valid") from exc
        return LinkClaim(int(alarm_id), int(caregiver_id))
