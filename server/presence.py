"""Gateway presence: the retained state topic, the last will and the heartbeat of every message.

A gateway that is offline (its last will) or silent for `silent_after` raises ONE technical
alarm for the home, not one per device; it is cleared when the gateway is heard again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from server.alarms import ACTIVE, clear_system_alarm, raise_system_alarm
from server.db.models import Alarm, Gateway, as_utc
from server.settings import GATEWAY_OFFLINE_GRACE_S, GATEWAY_SILENT_AFTER_S

log = logging.getLogger(__name__)

OFFLINE_TYPE = "gateway_offline"


@dataclass(frozen=True, slots=True)
class PresencePolicy:
    """How long silence or a last will is tolerated before staff are alarmed."""

    silent_after: timedelta = timedelta(seconds=GATEWAY_SILENT_AFTER_S)
    # A gateway that reconnects within this grace after its last will (a router restart) raises nothing.
    offline_grace: timedelta = timedelta(seconds=GATEWAY_OFFLINE_GRACE_S)


def is_down(gw: Gateway, policy: PresencePolicy, now: datetime) -> str | None:
    """Why the gateway counts as down, or None; gateways never heard from are not judged."""
    if gw.last_seen is None:
        return None
    last_seen = as_utc(gw.last_seen)
    if gw.state == "offline" and gw.state_at and now - as_utc(gw.state_at) >= policy.offline_grace:
        return "the gateway went offline: its connection was lost (MQTT last will) or it was stopped"
    if now - last_seen >= policy.silent_after:
        minutes = int((now - last_seen).total_seconds() // 60)
        return f"nothing heard from the gateway for {minutes} min"
    return None


def check(session: Session, policy: PresencePolicy, now: datetime) -> tuple[list[int], int]:
    """Raise or clear offline alarms (caller commits); returns (new alarm ids, cleared count)."""
    open_alarms = {
        a.gateway_id: a
        for a in session.scalars(
            select(Alarm).where(Alarm.type == OFFLINE_TYPE, Alarm.status.in_(ACTIVE)).with_for_update(skip_locked=True)
        )
    }
    # Only the gateways that may be down, or whose alarm may clear, are loaded: every 5 s, 10,000 homes
    # of which a handful are silent. `is_down` still decides; this query only has to include its cases.
    maybe_down = and_(
        Gateway.last_seen.is_not(None),
        or_(
            Gateway.last_seen <= now - policy.silent_after,
            and_(Gateway.state == "offline", Gateway.state_at <= now - policy.offline_grace),
        ),
    )
    alarmed = [gw_id for gw_id in open_alarms if gw_id is not None]
    candidates = or_(maybe_down, Gateway.id.in_(alarmed)) if alarmed else maybe_down
    raised, cleared = [], 0
    # Row locks: with several server processes, each gateway is judged by one of them at a time.
    for gw in session.scalars(select(Gateway).where(candidates).order_by(Gateway.id).with_for_update(skip_locked=True)):
        if gw.last_seen is None:
            continue  # provisioned but never heard from: not installed yet
        why = is_down(gw, policy, now)
        current = open_alarms.get(gw.id)
        if why and current is None:
            alarm = raise_system_alarm(
                session,
                gw.id,
                gw.resident_id,
                OFFLINE_TYPE,
                why,
                now,
                last_seen=as_utc(gw.last_seen).isoformat() if gw.last_seen else None,
            )
            if alarm is not None:
                log.warning("ALARM #%d gateway %s offline: %s", alarm.id, gw.id, why)
                raised.append(alarm.id)
        elif not why and current is not None:
            clear_system_alarm(session, current, now, "the gateway is online again")
            log.info("gateway %s is back; alarm #%d cleared", gw.id, current.id)
            cleared += 1
    return raised, cleared
