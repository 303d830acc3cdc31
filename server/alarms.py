"""The alarm desk: one active alarm per (resident, type), every transition audited."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anxin.protocol import AlarmBody, ProtocolError
from server.db.models import Alarm, AlarmAudit, IngestedEvent
from server.errors import Conflict, NotFound
from server.home_text import one_line

ACTIVE = ("raised", "notified", "acknowledged")
OUTCOMES = ("false_alarm", "helped_at_home", "ambulance", "hospital", "no_answer", "cleared", "test_passed", "other")


@dataclass(frozen=True, slots=True)
class AlarmChangeResult:
    """What applying a gateway's alarm message did."""

    alarm: Alarm
    new: bool
    cancelled: bool = False


def audit(session: Session, alarm: Alarm, action: str, actor: str | None, now: datetime, **detail: Any) -> None:
    """Append one audit record."""
    session.add(AlarmAudit(alarm_id=alarm.id, at=now, action=action, actor=actor, detail=detail))


def active_alarm(session: Session, resident_id: int | None, gateway_id: str, type_: str) -> Alarm | None:
    """The open alarm of that type for the resident (or, unpaired, for the gateway)."""
    q = select(Alarm).where(Alarm.type == type_, Alarm.status.in_(ACTIVE))
    q = (
        q.where(Alarm.resident_id == resident_id)
        if resident_id is not None
        else q.where(Alarm.gateway_id == gateway_id)
    )
    return session.scalars(q.order_by(Alarm.id.desc()).limit(1)).first()


def _text(value: Any, limit: int | None) -> str:
    # A home's text is data, never layout (server/home_text.py). A gateway's field must fit its column: an alarm that fails to store is resent for ever, never raised.
    return one_line(value, limit)  # one plain line (PostgreSQL text cannot hold NUL either)


def apply_gateway_alarm(
    session: Session,
    gateway_id: str,
    seq: int,
    resident_id: int | None,
    body: Mapping[str, Any],
    at: datetime,
    now: datetime,
) -> AlarmChangeResult | None:
    """Raise, repeat, cancel or clear from an uplink alarm body as it travels (tools and tests build these)."""
    return apply_alarm(session, gateway_id, seq, resident_id, AlarmBody.from_wire(body), at, now)


def apply_alarm(
    session: Session, gateway_id: str, seq: int, resident_id: int | None, body: AlarmBody, at: datetime, now: datetime
) -> AlarmChangeResult | None:
    """Raise, repeat, cancel or clear from a gateway's alarm."""
    type_ = _text(body.type or "unknown", 32)
    if type_ == "test":
        return _test_alarm(session, gateway_id, seq, resident_id, body, at, now)
    current = active_alarm(session, resident_id, gateway_id, type_)
    if body.change in ("cancel", "clear"):
        if current is None:
            return None
        if _overtaken(session, current, gateway_id, seq):
            audit(session, current, "stale_cancel_ignored", "gateway", now, seq=seq, change=body.change)
            return AlarmChangeResult(current, new=False)
        cancel = body.change == "cancel"
        current.status = "cancelled" if cancel else "resolved"
        current.resolved_at = now
        current.updated_at = now
        current.outcome = "cancelled_by_resident" if cancel else "cleared"
        current.next_escalation_at = None
        audit(session, current, "cancelled" if cancel else "cleared", "gateway", now, seq=seq, message=body.message)
        return AlarmChangeResult(current, new=False, cancelled=True)
    if current is not None:
        current.repeat_count += 1
        current.updated_at = now
        if body.severity is not None and _more_urgent(body.severity, current.severity):
            if current.severity == "info" and current.status == "raised" and current.next_escalation_at is None:
                current.next_escalation_at = now  # info waits for the doctor; what it turned into may not
            current.severity = _text(body.severity, 16)
        audit(session, current, "repeated", "gateway", now, seq=seq, message=body.message)
        return AlarmChangeResult(current, new=False)
    alarm = Alarm(
        resident_id=resident_id,
        gateway_id=gateway_id,
        gateway_seq=seq,
        type=type_,
        severity=_text(body.severity or "warning", 16),
        status="raised",
        device=None if body.device is None else _text(body.device, 128),
        message=_text(body.message or "", None),
        detail=dict(body.detail),
        raised_at=at,
        updated_at=now,
        next_escalation_at=None if body.severity == "info" else now,
    )
    closed_by = _later_change(session, gateway_id, seq, type_)
    if closed_by is not None:  # its cancel was handled first: on the record, never escalated
        cancel = closed_by[1] == "cancel"
        alarm.status, alarm.outcome = ("cancelled", "cancelled_by_resident") if cancel else ("resolved", "cleared")
        alarm.resolved_at, alarm.next_escalation_at = now, None
    session.add(alarm)
    session.flush()
    audit(session, alarm, "raised", "gateway", now, seq=seq, gateway_time=at.isoformat())
    if closed_by is not None:
        audit(
            session,
            alarm,
            "cancelled" if closed_by[1] == "cancel" else "cleared",
            "gateway",
            now,
            seq=closed_by[0],
            arrived_before_raise=True,
        )
        return AlarmChangeResult(alarm, new=False, cancelled=True)
    return AlarmChangeResult(alarm, new=True)


def _later_change(session: Session, gateway_id: str, seq: int, type_: str) -> tuple[int, str] | None:
    """(seq, change) of a cancel or clear of this type the gateway sent after `seq`, when it was handled first.

    With several server processes on a shared subscription, a cancel can be committed before its raise.
    """
    later = session.execute(
        select(IngestedEvent.seq, IngestedEvent.body)
        .where(IngestedEvent.gateway_id == gateway_id, IngestedEvent.lane == "alarm", IngestedEvent.seq > seq)
        .order_by(IngestedEvent.seq)
        .limit(500)
    )
    for later_seq, stored in later:
        # Later raises of this type are repeats of the same episode; the first cancel or clear ends it.
        try:
            body = AlarmBody.from_wire(stored) if isinstance(stored, dict) else None
        except ProtocolError:
            body = None  # not an alarm body (every stored one is: ingest screened it)
        if body is None:
            continue
        if body.type == type_ and body.change in ("cancel", "clear"):
            return later_seq, body.change
    return None


def _overtaken(session: Session, current: Alarm, gateway_id: str, seq: int) -> bool:
    """Whether the open alarm already holds a press this gateway sent after the cancel `seq`."""
    if current.gateway_id != gateway_id:
        return False
    if (current.gateway_seq or 0) > seq:
        return True
    repeats = session.scalars(
        select(AlarmAudit.detail).where(AlarmAudit.alarm_id == current.id, AlarmAudit.action == "repeated")
    )
    return any(isinstance(d, dict) and isinstance(d.get("seq"), int) and d["seq"] > seq for d in repeats)


def _test_alarm(
    session: Session, gateway_id: str, seq: int, resident_id: int | None, body: AlarmBody, at: datetime, now: datetime
) -> AlarmChangeResult:
    """A weekly test came all the way up: record it as passed, notify nobody."""
    alarm = Alarm(
        resident_id=resident_id,
        gateway_id=gateway_id,
        gateway_seq=seq,
        type="test",
        severity="info",
        status="resolved",
        message=_text(body.message or "weekly test", None),
        detail=dict(body.detail),
        raised_at=at,
        updated_at=now,
        resolved_at=now,
        outcome="test_passed",
    )
    session.add(alarm)
    session.flush()
    audit(session, alarm, "raised", "gateway", now, seq=seq, gateway_time=at.isoformat())
    audit(
        session,
        alarm,
        "resolved",
        "system",
        now,
        outcome="test_passed",
        round_trip_s=round((now - at).total_seconds(), 3),
    )
    return AlarmChangeResult(alarm, new=False)


def raise_system_alarm(
    session: Session, gateway_id: str, resident_id: int | None, type_: str, message: str, now: datetime, **detail: Any
) -> Alarm | None:
    """Raise a server-side technical alarm unless one of that type is already open; None if it was."""
    if active_alarm(session, resident_id, gateway_id, type_) is not None:
        return None
    alarm = Alarm(
        resident_id=resident_id,
        gateway_id=gateway_id,
        type=type_,
        severity="technical",
        status="raised",
        message=message,
        detail=detail,
        raised_at=now,
        updated_at=now,
        next_escalation_at=now,
    )
    session.add(alarm)
    session.flush()
    audit(session, alarm, "raised", "system", now, **detail)
    return alarm


def clear_system_alarm(session: Session, alarm: Alarm, now: datetime, reason: str) -> None:
    """Close a technical alarm whose cause went away."""
    alarm.status, alarm.outcome, alarm.resolved_at, alarm.updated_at = "resolved", "cleared", now, now
    alarm.next_escalation_at = None
    audit(session, alarm, "cleared", "system", now, reason=reason)


_RANK = {"emergency": 0, "urgent": 1, "warning": 2, "technical": 3, "info": 4}


def _more_urgent(new: str, old: str) -> bool:
    return _RANK.get(new, 9) < _RANK.get(old, 9)


def get_alarm(session: Session, alarm_id: int, lock: bool = False) -> Alarm:
    """Load an alarm or raise NotFound."""
    q = select(Alarm).where(Alarm.id == alarm_id)
    if lock:
        q = q.with_for_update()
    alarm = session.scalars(q).first()
    if alarm is None:
        raise NotFound(f"alarm {alarm_id} does not exist")
    return alarm


def acknowledge(session: Session, alarm_id: int, by: str, via: str, now: datetime) -> tuple[Alarm, bool]:
    """Record an acknowledgement; returns (alarm, first) — later ones are audited too."""
    alarm = get_alarm(session, alarm_id, lock=True)
    if alarm.status in ("resolved", "cancelled"):
        raise Conflict(f"alarm {alarm_id} is already {alarm.status}")
    first = alarm.acknowledged_at is None
    if first:
        alarm.status = "acknowledged"
        alarm.acknowledged_at = now
        alarm.acknowledged_by = by
        alarm.acknowledged_via = via
        alarm.next_escalation_at = None
    alarm.updated_at = now
    audit(session, alarm, "acknowledged" if first else "also_acknowledged", by, now, via=via)
    return alarm, first


def decline(session: Session, alarm_id: int, by: str, now: datetime) -> Alarm:
    """A caregiver says "I can't come": recorded, and when theirs is the stage being waited on, the next one
    is called now instead of after their timeout."""
    alarm = get_alarm(session, alarm_id, lock=True)
    waiting_on_them = False
    if alarm.status in ("raised", "notified") and alarm.next_escalation_at is not None:
        last = session.scalars(
            select(AlarmAudit)
            .where(AlarmAudit.alarm_id == alarm.id, AlarmAudit.action == "escalated")
            .order_by(AlarmAudit.id.desc())
            .limit(1)
        ).first()
        detail = last.detail if last is not None and isinstance(last.detail, dict) else {}
        waiting_on_them = detail.get("stage") == "caregiver" and by in (detail.get("recipients") or [])
    if waiting_on_them:
        alarm.next_escalation_at = now
        alarm.updated_at = now
    audit(session, alarm, "declined", by, now, via="caregiver_link", moved_on=waiting_on_them)
    return alarm


def add_note(session: Session, alarm_id: int, by: str, note: str, now: datetime) -> Alarm:
    """Attach a note to an alarm's audit trail."""
    alarm = get_alarm(session, alarm_id)
    audit(session, alarm, "note", by, now, note=note)
    return alarm


def resolve(session: Session, alarm_id: int, by: str, outcome: str, note: str | None, now: datetime) -> Alarm:
    """Close an alarm with an outcome."""
    if outcome not in OUTCOMES:
        raise Conflict(f"unknown outcome {outcome!r}; use one of {', '.join(OUTCOMES)}")
    alarm = get_alarm(session, alarm_id, lock=True)
    if alarm.status in ("resolved", "cancelled"):
        raise Conflict(f"alarm {alarm_id} is already {alarm.status}")
    if alarm.acknowledged_at is None:
        alarm.acknowledged_at, alarm.acknowledged_by, alarm.acknowledged_via = now, by, "resolve"
    alarm.status = "resolved"
    alarm.outcome = outcome
    alarm.resolved_at = now
    alarm.updated_at = now
    alarm.next_escalation_at = None
    audit(session, alarm, "resolved", by, now, outcome=outcome, note=note)
    return alarm
