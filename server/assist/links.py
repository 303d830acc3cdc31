"""Signed links: a family member's page for one resident, a provider's page for their jobs."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from server.assist.errors import BadServiceLink


class ServiceLinks:
    """Signs and checks /f/ (family, per resident) and /p/ (provider) tokens, each with its own salt."""

    def __init__(self, secret: str, ttl_s: int) -> None:
        self._family = URLSafeTimedSerializer(secret, salt="anxin-family-link")
        self._provider = URLSafeTimedSerializer(secret, salt="anxin-provider-link")
        self._ttl = ttl_s

    def family(self, resident_id: int) -> str:
        """The token for /f/{token}: asks for and rates services for this resident."""
        return self._family.dumps({"r": resident_id})

    def provider(self, provider_id: int) -> str:
        """The token for /p/{token}: this provider's jobs."""
        return self._provider.dumps({"p": provider_id})

    def check_family(self, token: str) -> int:
        """The resident id in a family token; raises BadServiceLink."""
        return self._check(self._family, token, "r")

    def check_provider(self, token: str) -> int:
        """The provider id in a provider token; raises BadServiceLink."""
        return self._check(self._provider, token, "p")

    def _check(self, s: URLSafeTimedSerializer, token: str, key: str) -> int:
        try:
            return int(s.loads(token, max_age=self._ttl)[key])
        except SignatureExpired as exc:
            raise BadServiceLink("this link has expired; ask the service centre for a new one") from exc
        except (BadSignature, KeyError, TypeError, ValueError) as exc:
            raise BadServiceLink("this link is not valid") from exc
