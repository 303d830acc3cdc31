"""What each page shows, read from the database: the queue, the resident's card, the fleet, figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from server.alarms import ACTIVE
from server.db.models import Alarm, AlarmAudit, Caregiver, Device, Gateway, Pairing, Reading, Resident, as_utc
from server.escalation import NO_RECIPIENTS, NOBODY_REACHABLE, SUPERVISOR_TOLD
from server.reliability import UnknownKeys, unknown_keys
from server.web.figures import AckSample, ServiceFigures, compute

SEVERITY_RANK = {"emergency": 0, "urgent": 1, "warning": 2, "technical": 3, "info": 4}
UNANSWERED = ("raised", "notified")
BP_METRICS = ("blood_pressure", "bp")
ACK_ACTIONS = ("acknowledged", "also_acknowledged")
UNREACHED_ACTIONS = (NO_RECIPIENTS, NOBODY_REACHABLE, SUPERVISOR_TOLD)
UNKNOWN_KEYS_WINDOW = timedelta(days=7)  # gateways re-report hourly while a device keeps sending them


def queue_order(alarm: Alarm) -> tuple[int, int, datetime]:
    """Unanswered before answered, then by severity, then the one waiting longest first."""
    return (0 if alarm.status in UNANSWERED else 1, SEVERITY_RANK.get(alarm.severity, 9), alarm.raised_at)


def alarm_queue(session: Session) -> list[Alarm]:
    """Every open alarm, in the order staff should take them."""
    q = select(Alarm).where(Alarm.status.in_(ACTIVE)).options(selectinload(Alarm.resident))
    return sorted(session.scalars(q), key=queue_order)


def unreached(session: Session, alarm_ids: list[int]) -> set[int]:
    """Which of these alarms could not reach the family: a caregiver stage with nobody to notify, or no stage
    reaching anybody ("未能通知 — 无可用联系人")."""
    if not alarm_ids:
        return set()
    rows = session.execute(
        select(AlarmAudit.alarm_id, AlarmAudit.action, AlarmAudit.detail).where(
            AlarmAudit.alarm_id.in_(alarm_ids), AlarmAudit.action.in_(UNREACHED_ACTIONS)
        )
    )
    # An empty staff or supervisor stage after the family was told is history, not "could not notify".
    return {a for a, action, detail in rows if action != NO_RECIPIENTS or (detail or {}).get("stage") == "caregiver"}


def fingerprint(session: Session) -> tuple[Any, ...]:
    """Changes whenever any alarm changes: what the cross-process poll compares."""
    return tuple(
        session.execute(
            select(
                func.count(Alarm.id),
                func.max(Alarm.id),
                func.max(Alarm.updated_at),
                select(func.max(AlarmAudit.id)).scalar_subquery(),
            )
        ).one()
    )


@dataclass
class Contact:
    """Someone to call about the resident."""

    name: str
    relation: str | None
    phone: str | None


@dataclass
class ResidentCard:
    """Everything staff need about the person while answering an alarm."""

    resident: Resident | None
    age: int | None
    contacts: list[Contact] = field(default_factory=list)
    recent: list[Alarm] = field(default_factory=list)
    pressures: list[Reading] = field(default_factory=list)


def resident_card(session: Session, alarm: Alarm, now: datetime) -> ResidentCard:
    """The resident behind an alarm, their contacts, recent alarms and last blood-pressure readings."""
    resident = session.get(Resident, alarm.resident_id) if alarm.resident_id else None
    if resident is None:
        return ResidentCard(None, None)
    age = now.year - resident.birth_year if resident.birth_year else None
    contacts = [Contact(resident.name, None, resident.phone)] if resident.phone else []
    pairs = session.scalars(select(Pairing).where(Pairing.resident_id == resident.id).order_by(Pairing.rank))
    contacts += [Contact(p.caregiver.name, p.caregiver.relation, p.caregiver.phone) for p in pairs]
    recent = list(
        session.scalars(
            select(Alarm)
            .where(Alarm.resident_id == resident.id, Alarm.id != alarm.id)
            .order_by(Alarm.raised_at.desc())
            .limit(5)
        )
    )
    pressures = list(
        session.scalars(
            select(Reading)
            .where(Reading.resident_id == resident.id, Reading.metric.in_(BP_METRICS))
            .order_by(Reading.ts.desc())
            .limit(5)
        )
    )
    return ResidentCard(resident, age, contacts, recent, pressures)


def acknowledgements(alarm: Alarm) -> list[AlarmAudit]:
    """Everyone who acknowledged, first one first."""
    return [a for a in alarm.audit if a.action in ACK_ACTIONS]


@dataclass
class DeviceHealth:
    """A device as the technical view sees it."""

    device: Device
    last_seen: datetime | None
    battery: float | None


@dataclass
class Fleet:
    """The technical view."""

    offline: list[Gateway]
    silent: list[DeviceHealth]
    low_battery: list[DeviceHealth]
    technical: list[Alarm]
    unknown_keys: list[UnknownKeys] = field(default_factory=list)


def device_health(session: Session, now: datetime, window: timedelta) -> list[DeviceHealth]:
    """Last sign of life and battery per device: the device row, else its readings within `window`."""
    since = now - window
    seen = {
        (gw, dev): as_utc(ts)
        for gw, dev, ts in session.execute(
            select(Reading.gateway_id, Reading.device, func.max(Reading.ts))
            .where(Reading.ts >= since)
            .group_by(Reading.gateway_id, Reading.device)
        )
    }
    battery: dict[tuple[str, str], float] = {}
    # zigbee2mqtt devices report battery in their state messages; the gateway forwards them as
    # `device_status` readings. Oldest first, so the newest value wins.
    for gw, dev, values in session.execute(
        select(Reading.gateway_id, Reading.device, Reading.values)
        .where(Reading.metric == "device_status", Reading.ts >= since)
        .order_by(Reading.ts)
    ):
        if isinstance(values.get("battery"), (int, float)):
            battery[(gw, dev)] = float(values["battery"])
    result = []
    for d in session.scalars(select(Device).order_by(Device.gateway_id, Device.name)):
        key = (d.gateway_id, d.name)
        stamps = [t for t in (as_utc(d.last_seen) if d.last_seen else None, seen.get(key)) if t is not None]
        result.append(DeviceHealth(d, max(stamps) if stamps else None, battery.get(key, d.battery)))
    return result


def fleet(session: Session, now: datetime, silent_after: timedelta, battery_low: float) -> Fleet:
    """Gateways not online, devices quiet for too long, batteries below the threshold, open technical alarms."""
    offline = list(session.scalars(select(Gateway).where(Gateway.state != "online").order_by(Gateway.id)))
    health = device_health(session, now, max(silent_after * 4, timedelta(days=1)))
    silent = [h for h in health if h.last_seen is None or now - h.last_seen > silent_after]
    low = [h for h in health if h.battery is not None and h.battery < battery_low]
    technical = list(
        session.scalars(
            select(Alarm).where(Alarm.status.in_(ACTIVE), Alarm.severity == "technical").order_by(Alarm.raised_at)
        )
    )
    return Fleet(offline, silent, low, technical, unknown_keys(session, now - UNKNOWN_KEYS_WINDOW))


def service_figures(session: Session, now: datetime, tz: ZoneInfo, days: int = 30) -> ServiceFigures:
    """Figures of the last `days` days: care alarms only (no technical ones, none the resident cancelled)."""
    since = now - timedelta(days=days)
    rows = session.execute(
        select(Alarm.raised_at, Alarm.acknowledged_at, Alarm.acknowledged_by).where(
            Alarm.raised_at >= since, Alarm.severity != "technical", Alarm.status != "cancelled"
        )
    )
    return compute((AckSample(as_utc(r), as_utc(a) if a else None, b) for r, a, b in rows), now, tz)


def homes(session: Session) -> list[tuple[Resident, list[Caregiver], list[Gateway], dict[str, list[Device]]]]:
    """Each resident with their caregivers in order, their gateways and each gateway's devices."""
    result = []
    for r in session.scalars(select(Resident).order_by(Resident.code)):
        cgs = [p.caregiver for p in r.pairings]
        gws = list(session.scalars(select(Gateway).where(Gateway.resident_id == r.id).order_by(Gateway.id)))
        devs = {
            g.id: list(session.scalars(select(Device).where(Device.gateway_id == g.id).order_by(Device.name)))
            for g in gws
        }
        result.append((r, cgs, gws, devs))
    return result
