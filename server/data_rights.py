"""A resident's data rights (PIPL / GDPR): consent with time and scope, export of everything, erasure."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.audit import RESIDENT_FIELDS, snapshot
from server.db.models import (
    Alarm,
    AlarmAudit,
    Caregiver,
    Device,
    Gateway,
    IngestedEvent,
    NotificationAttempt,
    NotificationJob,
    Pairing,
    Reading,
    Resident,
)
from server.db.models_security import AuditEntry
from server.masking import mask_url

ERASED_NAME = "已删除 erased"
# Emergency response needs no consent (vital interests); these two scopes do.
SCOPES = {"readings": "storing health readings", "sharing": "showing readings to doctors and exporting them"}


def set_consent(resident: Resident, readings: bool, sharing: bool, now: datetime) -> None:
    """Record what the resident agreed to and when (sharing without storing means nothing to share)."""
    resident.consent, resident.consent_sharing, resident.consent_at = readings, readings and sharing, now


def may_share(resident: Resident) -> bool:
    """Whether doctors may see and export this resident's readings."""
    return bool(resident.consent and resident.consent_sharing)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _rows(rows: Any, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{f: _plain(getattr(r, f)) for f in fields} for r in rows]


def export(session: Session, resident: Resident) -> dict[str, Any]:
    """Everything the service holds about one resident, as plain JSON-able data."""
    rid = resident.id
    alarms = list(session.scalars(select(Alarm).where(Alarm.resident_id == rid).order_by(Alarm.id)))
    alarm_ids = [a.id for a in alarms]
    gateways = list(session.scalars(select(Gateway).where(Gateway.resident_id == rid)))
    gw_ids = [g.id for g in gateways]
    attempts = session.scalars(select(NotificationAttempt).where(NotificationAttempt.alarm_id.in_(alarm_ids)))
    return {
        "resident": {
            **(snapshot(resident, RESIDENT_FIELDS) or {}),
            "language": resident.language,
            "care_categories": list(resident.care_categories or []),
            "bp_target": dict(resident.bp_target or {}),
            "timezone": resident.timezone,
            "notes": resident.notes,
            "consent_at": _plain(resident.consent_at),
        },
        "caregivers": [
            {
                "rank": p.rank,
                "code": p.caregiver.code,
                "name": p.caregiver.name,
                "relation": p.caregiver.relation,
                "phone": p.caregiver.phone,
            }
            for p in resident.pairings
        ],
        "gateways": _rows(gateways, ("id", "state", "last_seen")),
        "devices": _rows(
            session.scalars(select(Device).where(Device.gateway_id.in_(gw_ids))),
            ("gateway_id", "name", "family", "role", "model", "room", "last_seen", "battery"),
        ),
        "readings": _rows(
            session.scalars(select(Reading).where(Reading.resident_id == rid).order_by(Reading.ts)),
            ("ts", "metric", "values", "flags", "device"),
        ),
        "alarms": _rows(
            alarms,
            (
                "id",
                "type",
                "severity",
                "status",
                "message",
                "detail",
                "raised_at",
                "acknowledged_at",
                "acknowledged_by",
                "resolved_at",
                "outcome",
            ),
        ),
        "alarm_history": _rows(
            session.scalars(select(AlarmAudit).where(AlarmAudit.alarm_id.in_(alarm_ids)).order_by(AlarmAudit.id)),
            ("alarm_id", "at", "action", "actor", "detail"),
        ),
        "notifications": [
            {
                "alarm_id": a.alarm_id,
                "at": _plain(a.at),
                "recipient": a.recipient,
                "channel": mask_url(a.channel),
                "ok": a.ok,
            }
            for a in attempts
        ],
        "events": _rows(
            session.scalars(
                select(IngestedEvent).where(IngestedEvent.gateway_id.in_(gw_ids), IngestedEvent.body.is_not(None))
            ),
            ("gateway_id", "seq", "lane", "gateway_ts", "body"),
        ),
    }


def export_csv(data: dict[str, Any]) -> str:
    """The export as one CSV: a section column, then each record's fields as JSON."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "record"])
    for section, content in data.items():
        for item in content if isinstance(content, list) else [content]:
            writer.writerow([section, json.dumps(item, ensure_ascii=False, default=str)])
    return out.getvalue()


def erase(session: Session, resident: Resident, now: datetime) -> dict[str, int]:
    """Remove or irreversibly anonymise a resident's personal data; alarm counts and times stay for the figures."""
    rid, code = resident.id, resident.code
    alarm_ids = list(session.scalars(select(Alarm.id).where(Alarm.resident_id == rid)))
    gw_ids = list(session.scalars(select(Gateway.id).where(Gateway.resident_id == rid)))
    readings = session.query(Reading).filter(Reading.resident_id == rid).delete(synchronize_session=False)
    session.execute(update(Alarm).where(Alarm.id.in_(alarm_ids)).values(message="", detail={}))
    session.execute(update(AlarmAudit).where(AlarmAudit.alarm_id.in_(alarm_ids)).values(detail={}))
    session.execute(
        update(NotificationJob)
        .where(NotificationJob.alarm_id.in_(alarm_ids))
        .values(recipient_name=ERASED_NAME, url="", channel="erased")
    )
    session.execute(
        update(NotificationAttempt)
        .where(NotificationAttempt.alarm_id.in_(alarm_ids))
        .values(recipient=ERASED_NAME, channel="erased", error=None)
    )
    session.execute(update(IngestedEvent).where(IngestedEvent.gateway_id.in_(gw_ids)).values(body=None))
    session.execute(update(AuditEntry).where(AuditEntry.target == code).values(before=None, after=None))
    caregiver_ids = [p.caregiver_id for p in resident.pairings]
    for p in list(resident.pairings):
        session.delete(p)
    session.flush()
    for cg in session.scalars(select(Caregiver).where(Caregiver.id.in_(caregiver_ids))):
        if session.scalar(select(Pairing.id).where(Pairing.caregiver_id == cg.id).limit(1)) is None:
            cg.name, cg.phone, cg.relation, cg.notify_urls = ERASED_NAME, None, None, []
    for name in ("birth_year", "address", "phone", "key_holder", "notes", "timezone"):
        setattr(resident, name, None)
    resident.name, resident.conditions, resident.medication = ERASED_NAME, [], []
    resident.care_categories, resident.bp_target = [], {}
    resident.consent = resident.consent_sharing = False
    resident.consent_at, resident.erased_at = now, now
    session.flush()
    return {"readings_deleted": int(readings), "alarms_kept": len(alarm_ids)}
