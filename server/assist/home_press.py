"""The "service" press at home: a gateway's service_request event becomes a request (channel home), never an alarm."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.assist import catalog, store
from server.assist.schemas import RequestIn
from server.audit import Actor
from server.db.models import Gateway, Resident

log = logging.getLogger(__name__)
KIND = "service_request"  # gateway.model.EventKind.SERVICE


def record_service_press(session: Session, gw: Gateway, body: Mapping[str, Any], now: datetime) -> bool:
    """Take a service press as a new request for the gateway's resident; False for every other event kind."""
    if body.get("kind") != KIND:
        return False
    resident = session.get(Resident, gw.resident_id) if gw.resident_id is not None else None
    if resident is None:
        log.warning("gateway %s: a service press, but no resident is registered there; nothing to request", gw.id)
        return True
    raw = body.get("detail")
    detail = raw if isinstance(raw, dict) else {}
    category = str(detail.get("category") or "other")
    device = str(body.get("device") or "button")[:64]
    req = RequestIn(
        resident_code=resident.code,
        category=category if category in catalog.CATEGORIES else "other",
        description=f"家中按键（服务）/ service button at home: {device}",
    )
    row = store.create(session, req, "home", Actor(f"gateway:{gw.id}", None, None), now)
    log.info("service request #%d from the home of %s (%s)", row.id, resident.code, gw.id)
    return True
