"""Rules configuration for gateways: validate and send a version, record what the gateway reported."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from anxin import protocol
from anxin.rules_document import RulesConfigError, parse_rules
from server.db.models import Gateway
from server.errors import Conflict, NotFound, ServerError
from server.home_text import for_log
from server.services import Services

log = logging.getLogger(__name__)

REPORT_KINDS = ("config_applied", "config_rejected")


class InvalidRules(ServerError):
    """A rules document the gateway would reject; nothing was sent."""


def push_rules(services: Services, gateway_id: str, version: int, rules: Mapping[str, Any]) -> Gateway:
    """Validate with the gateway's own schema, record the pushed version, then send the command."""
    try:
        parse_rules(rules)
    except RulesConfigError as exc:
        raise InvalidRules(str(exc)) from exc
    with services.sessions() as s, s.begin():
        gw = s.get(Gateway, gateway_id)
        if gw is None:
            raise NotFound(f"no gateway {gateway_id!r}")
        if gw.rules_version is not None and version < gw.rules_version:
            raise Conflict(f"version {version} is older than the applied version {gw.rules_version}")
        gw.rules_pushed_version, gw.rules_error = version, None
    send_rules(services, gateway_id, version, rules)
    return gw


def send_rules(services: Services, gateway_id: str, version: int, rules: Mapping[str, Any]) -> None:
    """Publish the command as is (QoS 1; the gateway's persistent session gets it after an outage)."""
    services.downlink(gateway_id, protocol.Command("rules_config", {"version": version, "rules": dict(rules)}))
    log.info("rules version %d sent to gateway %s", version, gateway_id)


def send_mode(services: Services, gateway_id: str, away: bool) -> None:
    """Switch a home's away mode (suppresses inactivity and check-in alerts)."""
    with services.sessions() as s:
        if s.get(Gateway, gateway_id) is None:
            raise NotFound(f"no gateway {gateway_id!r}")
    services.downlink(gateway_id, protocol.Command("set_away", {"away": away}))


def record_report(session: Session, gw: Gateway, body: Mapping[str, Any]) -> bool:
    """Apply a gateway's config_applied / config_rejected event; False when the event is another kind."""
    kind = body.get("kind")
    if kind not in REPORT_KINDS:
        return False
    raw = body.get("detail")
    detail: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    version = detail.get("version")
    if kind == "config_applied" and isinstance(version, int):
        if gw.rules_version is None or version >= gw.rules_version:
            gw.rules_version, gw.rules_error = version, None
    elif kind == "config_rejected":
        gw.rules_error = f"version {version!r} rejected: {detail.get('error', 'no reason given')}"
        log.warning("gateway %s %s", for_log(gw.id), for_log(gw.rules_error, 300))
    return True
