"""Readings kept for trends (staff and doctors)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from server.api.deps import SessionDep, as_utc, permit
from server.api.schemas import ReadingOut
from server.auth import StaffIdentity
from server.db.models import Reading

router = APIRouter(prefix="/readings", tags=["readings"])
Reader = Annotated[StaffIdentity, Depends(permit("readings.read"))]


@router.get("", response_model=list[ReadingOut])
def list_readings(
    session: SessionDep,
    _who: Reader,
    resident_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    gateway_id: Annotated[str | None, Query(max_length=64)] = None,
    metric: Annotated[str | None, Query(max_length=32, description="blood_pressure, heart_rate, …")] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 500,
) -> list[Reading]:
    """Readings, newest first."""
    q = select(Reading).order_by(Reading.ts.desc(), Reading.id.desc()).limit(limit)
    for column, value in (
        (Reading.resident_id, resident_id),
        (Reading.gateway_id, gateway_id),
        (Reading.metric, metric),
    ):
        if value is not None:
            q = q.where(column == value)
    since, until = as_utc(since), as_utc(until)
    if since:
        q = q.where(Reading.ts >= since)
    if until:
        q = q.where(Reading.ts < until)
    return list(session.scalars(q))
