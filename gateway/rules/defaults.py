"""The rule set a gateway runs when its configuration names no other."""

from __future__ import annotations

from typing import Any, Mapping

from gateway.rules.engine import Engine
from gateway.rules.sos import SosRule


def build_engine(config: Mapping[str, Any] | None = None) -> Engine:
    """Build the engine from the `rules:` section of the gateway settings."""
    return Engine((SosRule(),))
