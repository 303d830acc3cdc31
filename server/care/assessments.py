"""Recording ability assessments: score, keep, and let the grade feed the categories."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.care import audit, scoring
from server.care.plans import local_date, to_utc
from server.care.profile import profile_row, refresh_categories
from server.care.schemas import AssessmentIn
from server.db.models import Resident
from server.db.models_care import Assessment


def record_assessment(
    session: Session, resident: Resident, body: AssessmentIn, actor: str, now: datetime, advanced_age: int
) -> Assessment:
    """Score and store one assessment; the newest assessment's grade becomes the profile's."""
    adjust = scoring.Adjustments(body.coma, body.dementia_or_mental_disorder, body.risk_events_30d)
    result = scoring.score(body.answers, adjust)
    row = Assessment(
        resident_id=resident.id,
        assessed_at=to_utc(body.assessed_at) if body.assessed_at else now,
        reason=body.reason,
        assessor=body.assessor,
        answers=dict(body.answers),
        adjustments={
            "coma": body.coma,
            "risk_events_30d": body.risk_events_30d,
            "dementia_or_mental_disorder": body.dementia_or_mental_disorder,
            "changes": result.changes,
        },
        domain_totals=result.domain_totals,
        total=result.total,
        preliminary=result.preliminary,
        grade=result.grade,
        recorded_by=actor,
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    profile = profile_row(session, resident)
    newest = latest(session, resident.id)
    profile.grade = newest.grade if newest else None
    refresh_categories(session, resident, profile, local_date(now), advanced_age)
    audit.record(
        session, actor, "assessment_recorded", resident.id, now, assessment=row.id, total=row.total, grade=row.grade
    )
    return row


def latest(session: Session, resident_id: int) -> Assessment | None:
    """The most recent assessment (by when it was made)."""
    return session.scalars(
        select(Assessment)
        .where(Assessment.resident_id == resident_id)
        .order_by(Assessment.assessed_at.desc(), Assessment.id.desc())
        .limit(1)
    ).first()


def all_for(session: Session, resident_id: int) -> list[Assessment]:
    """Every assessment, newest first."""
    return list(
        session.scalars(
            select(Assessment)
            .where(Assessment.resident_id == resident_id)
            .order_by(Assessment.assessed_at.desc(), Assessment.id.desc())
        )
    )
