"""Ratings after a completed request or a resolved alarm; a low one opens the supervisor's follow-up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from server import audit
from server.assist.errors import BadStep, NotFound
from server.assist.schemas import EvaluationIn
from server.audit import Actor
from server.db.models import Alarm
from server.db.models_assist import Evaluation, ServiceRequest

LOW = 2  # a rating at or below this opens a follow-up for the supervisor


def rate(
    session: Session, body: EvaluationIn, actor: Actor, now: datetime, resident_id: int | None = None
) -> Evaluation:
    """Keep a rating of a done request or a resolved alarm (of this resident, when given); audited."""
    if body.request_id is not None:
        req = session.get(ServiceRequest, body.request_id)
        if req is None or (resident_id is not None and req.resident_id != resident_id):
            raise NotFound(f"no request {body.request_id}")
        if req.status != "done":
            raise BadStep("only a completed request can be rated")
        row = Evaluation(
            request_id=req.id, resident_id=req.resident_id, category=req.category, provider_id=req.provider_id
        )
    else:
        alarm = session.get(Alarm, body.alarm_id)
        if alarm is None or (resident_id is not None and alarm.resident_id != resident_id):
            raise NotFound(f"no alarm {body.alarm_id}")
        if alarm.resolved_at is None:
            raise BadStep("only a resolved alarm can be rated")
        row = Evaluation(
            alarm_id=alarm.id, resident_id=alarm.resident_id, category="alarm", staff=alarm.acknowledged_by
        )
    same = select(Evaluation.id).where(
        Evaluation.rater == body.rater,
        Evaluation.request_id == row.request_id if row.request_id is not None else Evaluation.alarm_id == row.alarm_id,
    )
    if session.scalars(same).first() is not None:
        raise BadStep(f"the {body.rater} has rated this already")
    row.rater, row.score, row.at, row.recorded_by = body.rater, body.score, now, actor.name or body.rater
    row.comment = (body.comment or "").strip() or None
    row.follow_up = "open" if body.score <= LOW else None
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "evaluation.recorded",
        now,
        "evaluation",
        str(row.id),
        after={
            "request": row.request_id,
            "alarm": row.alarm_id,
            "rater": row.rater,
            "score": row.score,
            "follow_up": row.follow_up,
        },
    )
    return row


def close_follow_up(session: Session, evaluation_id: int, note: str, actor: Actor, now: datetime) -> Evaluation:
    """The supervisor closes a low rating's follow-up with what was done; audited."""
    row = session.get(Evaluation, evaluation_id)
    if row is None or row.follow_up != "open":
        raise NotFound(f"no open follow-up {evaluation_id}")
    if not note.strip():
        raise BadStep("say what was done before closing the follow-up")
    row.follow_up, row.follow_up_note = "closed", note.strip()[:2000]
    audit.record(
        session,
        actor,
        "evaluation.follow_up_closed",
        now,
        "evaluation",
        str(row.id),
        before={"follow_up": "open"},
        after={"follow_up": "closed", "note": row.follow_up_note},
    )
    return row


def listing(session: Session, open_follow_ups: bool = False, limit: int = 500) -> list[Evaluation]:
    """Ratings newest first (only open follow-ups when asked)."""
    q = select(Evaluation).order_by(Evaluation.at.desc(), Evaluation.id.desc()).limit(limit)
    if open_follow_ups:
        q = q.where(Evaluation.follow_up == "open")
    return list(session.scalars(q))


def summary(session: Session) -> dict[str, list[dict[str, object]]]:
    """Mean rating and count per provider, per staff member (alarms) and per category."""
    from sqlalchemy import func

    from server.db.models_assist import Provider

    def grouped(key: InstrumentedAttribute[Any], *where: ColumnElement[bool]) -> list[dict[str, object]]:
        q = (
            select(
                key,
                func.count(Evaluation.id),
                func.sum(Evaluation.score),
                func.sum((Evaluation.score <= LOW).cast(Integer())),
            )
            .where(*where)
            .group_by(key)
            .order_by(key)
        )
        return [
            {"key": k, "ratings": int(n), "mean": round(int(total) / int(n), 2), "low": int(low or 0)}
            for k, n, total, low in session.execute(q)
        ]

    return {
        "provider": grouped(Provider.name, Evaluation.provider_id == Provider.id),
        "staff": grouped(Evaluation.staff, Evaluation.staff.is_not(None)),
        "category": grouped(Evaluation.category),
    }


def unrated(session: Session, resident_ids: list[int], rater: str, since: datetime) -> list[ServiceRequest]:
    """Requests of these residents done since a time that this rater has not rated yet, newest first."""
    rated = select(Evaluation.request_id).where(Evaluation.rater == rater, Evaluation.request_id.is_not(None))
    return list(
        session.scalars(
            select(ServiceRequest)
            .where(
                ServiceRequest.resident_id.in_(resident_ids),
                ServiceRequest.status == "done",
                ServiceRequest.done_at >= since,
                ServiceRequest.id.not_in(rated),
            )
            .order_by(ServiceRequest.done_at.desc())
        )
    )
