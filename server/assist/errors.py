"""The errors of services at home."""

from __future__ import annotations

from server.errors import ServerError


class AssistError(ServerError):
    """Something about a request, a provider or a rating is wrong."""


class NotFound(AssistError):
    """No such request, provider, resident or alarm."""


class BadStep(AssistError):
    """A step the request's status does not allow (done twice, assigned after cancelling…)."""


class BadServiceLink(AssistError):
    """A family or provider link that was tampered with or has expired."""
