"""The audit trail across alarms, and the dead-letter table (what ingest refused)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from server.api.deps import SessionDep, as_utc, permit
from server.api.schemas import AuditEntryOut, DeadLetterOut
from server.auth import StaffIdentity
from server.db.models import AlarmAudit, DeadLetter

router = APIRouter(tags=["audit"])
Desk = Annotated[StaffIdentity, Depends(permit("alarm.audit.read"))]
Admin = Annotated[StaffIdentity, Depends(permit("dead_letters.read"))]


@router.get("/audit", response_model=list[AuditEntryOut])
def audit_trail(
    session: SessionDep,
    _who: Desk,
    since: Annotated[datetime | None, Query(description="at or after (ISO 8601)")] = None,
    action: Annotated[str | None, Query(max_length=32)] = None,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[AlarmAudit]:
    """Every transition and note, newest first: what happened, to the second, and who did it."""
    q = select(AlarmAudit).order_by(AlarmAudit.id.desc()).limit(limit)
    since = as_utc(since)
    if since:
        q = q.where(AlarmAudit.at >= since)
    if action:
        q = q.where(AlarmAudit.action == action)
    if actor:
        q = q.where(AlarmAudit.actor == actor)
    return list(session.scalars(q))


@router.get("/dead-letters", response_model=list[DeadLetterOut])
def dead_letters(
    session: SessionDep, _who: Admin, limit: Annotated[int, Query(ge=1, le=5000)] = 200
) -> list[DeadLetter]:
    """Messages ingest could not accept, newest first (administrators)."""
    return list(session.scalars(select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)))
