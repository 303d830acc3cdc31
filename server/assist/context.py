"""The services settings, read once from the server's settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from server.assist.links import ServiceLinks
from server.settings import ServerSettings


@dataclass(frozen=True, slots=True)
class AssistConfig:
    """SLA overrides per category and the link signer."""

    links: ServiceLinks
    sla: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


def assist_config(settings: ServerSettings) -> AssistConfig:
    """The services configuration of these settings (no I/O)."""
    return AssistConfig(
        ServiceLinks(settings.secret_key or "", settings.service_link_ttl_s),
        MappingProxyType(dict(settings.service_sla_hours)),
    )
