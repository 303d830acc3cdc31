"""A rules configuration pushed by the server: checked in full before the worker swaps it in."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from anxin.rules_document import RulesConfigError
from gateway.rules.defaults import build_engine
from gateway.rules.engine import Engine, ModeChange

COMMAND = "rules_config"
MODE_COMMAND = "set_away"
META_CONFIG = "rules_config"  # outbox meta key: the applied pushed document and its version
META_STATE = "rules_state"  # outbox meta key: persistent rule state (learned inactivity slots)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A validated configuration, ready to be persisted and swapped in."""

    version: int
    document: Mapping[str, Any]
    engine: Engine

    def stored(self) -> str:
        """How it is kept in the outbox meta table."""
        return json.dumps({"version": self.version, "rules": dict(self.document)}, ensure_ascii=False)


def accept(args: Mapping[str, Any], applied: int, timezone: str, resident: str | None) -> Accepted:
    """Validate a `rules_config` command against the applied version; raises RulesConfigError."""
    version, document = args.get("version"), args.get("rules")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RulesConfigError(f"version must be a positive integer, not {version!r}")
    if version < applied:
        raise RulesConfigError(f"version {version} is older than the applied version {applied}")
    if not isinstance(document, Mapping):
        raise RulesConfigError("rules must be an object")
    return Accepted(version, dict(document), build_engine(document, timezone, resident))


def load_stored(raw: str, timezone: str, resident: str | None) -> Accepted:
    """The configuration kept in the meta table; raises RulesConfigError when it no longer validates."""
    try:
        doc = json.loads(raw)
        return accept({"version": doc["version"], "rules": doc["rules"]}, 0, timezone, resident)
    except (ValueError, KeyError, TypeError) as exc:
        raise RulesConfigError(f"stored rules configuration is unreadable: {exc}") from exc


def report(kind: str, version: object, error: str | None = None) -> dict[str, Any]:
    """The event-lane body that tells the server what became of a pushed version."""
    detail: dict[str, Any] = {"version": version}
    if error is not None:
        detail["error"] = error[:2000]
    return {"device": None, "kind": kind, "detail": detail}


def mode_change(doc: Mapping[str, Any], source: str) -> ModeChange:
    """A `{"away": bool}` document as an engine input; raises RulesConfigError otherwise."""
    away = doc.get("away")
    if not isinstance(away, bool):
        raise RulesConfigError(f"away must be true or false, not {away!r}")
    return ModeChange(away, source)
