"""Reads what server/coverage.py evaluates: homes, devices, channels and their last outcomes, the desk's
people, open fault alarms and devices the gateways report but nobody paired."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.alarms import ACTIVE
from server.coverage import CaregiverFact, Coverage, DeskFacts, DeviceFact, HomeFacts, evaluate
from server.db.models import Alarm, Device, Gateway, IngestedEvent, NotificationAttempt, Resident, Staff, as_utc
from server.escalation import on_duty
from server.masking import mask_url
from server.notify_channels import url_understood
from server.reliability import unknown_keys

UNKNOWN_WINDOW = timedelta(days=7)


def _last_outcomes(session: Session, since: datetime) -> dict[str, bool]:
    """Each channel's (masked URL) last delivery outcome since `since`."""
    out: dict[str, bool] = {}
    for channel, ok in session.execute(
        select(NotificationAttempt.channel, NotificationAttempt.ok)
        .where(NotificationAttempt.at >= since)
        .order_by(NotificationAttempt.id)
    ):
        out[channel] = bool(ok)
    return out


def _unknown_devices(session: Session, since: datetime) -> dict[str, set[str]]:
    """Per gateway, device names it reported as unknown (events, or readings with unknown keys)."""
    found: dict[str, set[str]] = {}
    rows = session.execute(
        select(IngestedEvent.gateway_id, IngestedEvent.body).where(
            IngestedEvent.lane == "event",
            IngestedEvent.received_at >= since,
            IngestedEvent.body["kind"].as_string() == "unknown_device",
        )
    )
    for gateway_id, body in rows:
        if isinstance(body, dict) and body.get("device"):
            found.setdefault(gateway_id, set()).add(str(body["device"])[:128])
    for report in unknown_keys(session, since):
        found.setdefault(report.gateway_id, set()).add(report.device)
    return found


def desk_facts(session: Session, now: datetime) -> DeskFacts:
    """Staff on duty now and supervisors, counted only when they have a channel."""
    chiefs = session.scalars(select(Staff).where(Staff.role == "supervisor", Staff.active.is_(True)))
    return DeskFacts(
        on_duty_reachable=sum(1 for p in on_duty(session, now) if p.notify_urls),
        supervisors_reachable=sum(1 for p in chiefs if p.notify_urls),
    )


def home_facts(session: Session, now: datetime, only: str | None = None) -> list[HomeFacts]:
    """The facts of every resident (or of the one with code `only`)."""
    outcomes = _last_outcomes(session, now - UNKNOWN_WINDOW)
    unknown = _unknown_devices(session, now - UNKNOWN_WINDOW)
    faults: dict[int, list[str]] = {}
    for rid, type_ in session.execute(select(Alarm.resident_id, Alarm.type).where(Alarm.status.in_(ACTIVE))):
        if rid is not None:
            faults.setdefault(rid, []).append(type_)
    homes = []
    query = select(Resident).order_by(Resident.code).options(selectinload(Resident.pairings))
    residents = session.scalars(query if only is None else query.where(Resident.code == only))
    for r in residents:
        gateways = list(session.scalars(select(Gateway).where(Gateway.resident_id == r.id).order_by(Gateway.id)))
        devices = list(session.scalars(select(Device).where(Device.gateway_id.in_([g.id for g in gateways]))))
        paired = {d.name for d in devices}
        caregivers = []
        for p in sorted(r.pairings, key=lambda p: p.rank):
            urls = [u for u in p.caregiver.notify_urls if isinstance(u, str) and url_understood(u)]
            failing = sum(1 for u in urls if outcomes.get(mask_url(u)) is False)
            caregivers.append(CaregiverFact(p.caregiver.code, p.caregiver.name, len(urls), failing))
        homes.append(
            HomeFacts(
                code=r.code,
                name=r.name,
                categories=tuple(str(c) for c in r.care_categories or ()),
                gateways=tuple((g.id, g.state) for g in gateways),
                devices=tuple(
                    DeviceFact(d.name, d.role, as_utc(d.last_seen) if d.last_seen else None) for d in devices
                ),
                caregivers=tuple(caregivers),
                open_faults=tuple(faults.get(r.id, ())),
                unknown_devices=tuple(
                    sorted(f"{g.id}/{n}" for g in gateways for n in unknown.get(g.id, set()) if n not in paired)
                ),
            )
        )
    return homes


def coverage_now(
    session: Session, now: datetime, silent_after: timedelta = timedelta(hours=6), only: str | None = None
) -> Coverage:
    """The coverage of every resident (or of resident `only`) at `now`."""
    return evaluate(home_facts(session, now, only), desk_facts(session, now), now, silent_after)
