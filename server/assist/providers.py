"""Providers and volunteers: registration, their load and ratings, and who to suggest for a request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import audit
from server.assist import catalog, ranking
from server.assist.errors import AssistError
from server.assist.schemas import ProviderIn, ProviderOut
from server.audit import Actor
from server.db.models_assist import Evaluation, Provider, ServiceRequest
from server.db.models_care import ResidentProfile

_FIELDS = ("code", "name", "kind", "categories", "district", "hours", "capacity", "phone")


def save(session: Session, body: ProviderIn, actor: Actor, now: datetime) -> Provider:
    """Register a provider, or update the one with this code; audited with before and after."""
    row = session.scalars(select(Provider).where(Provider.code == body.code)).first()
    before = audit.snapshot(row, _FIELDS)
    if row is None:
        row = Provider(code=body.code)
        session.add(row)
    for name in _FIELDS[1:]:
        setattr(row, name, list(body.categories) if name == "categories" else getattr(body, name))
    row.active = True
    session.flush()
    audit.record(
        session, actor, "provider.saved", now, "provider", row.code, before=before, after=audit.snapshot(row, _FIELDS)
    )
    return row


def loads(session: Session) -> dict[int, int]:
    """Open jobs per provider."""
    rows = session.execute(
        select(ServiceRequest.provider_id, func.count(ServiceRequest.id))
        .where(ServiceRequest.status.in_(("assigned", "on_the_way")), ServiceRequest.provider_id.is_not(None))
        .group_by(ServiceRequest.provider_id)
    )
    return {pid: int(n) for pid, n in rows if pid is not None}


def ratings(session: Session) -> dict[int, tuple[int, int]]:
    """(sum of scores, number of ratings) per provider."""
    rows = session.execute(
        select(Evaluation.provider_id, func.sum(Evaluation.score), func.count(Evaluation.id))
        .where(Evaluation.provider_id.is_not(None))
        .group_by(Evaluation.provider_id)
    )
    return {pid: (int(total), int(n)) for pid, total, n in rows if pid is not None}


def listing(session: Session) -> list[ProviderOut]:
    """Every active provider with load and ratings, by name."""
    load, rated = loads(session), ratings(session)
    out = []
    for p in session.scalars(select(Provider).where(Provider.active.is_(True)).order_by(Provider.name)):
        total, n = rated.get(p.id, (0, 0))
        out.append(
            ProviderOut(
                code=p.code,
                name=p.name,
                kind=p.kind,
                categories=list(p.categories or []),
                district=p.district,
                hours=p.hours,
                capacity=p.capacity,
                phone=p.phone,
                load=load.get(p.id, 0),
                ratings=n,
                mean_rating=round(total / n, 2) if n else None,
            )
        )
    return out


def suggest(session: Session, request_id: int) -> list[ranking.Suggestion]:
    """Providers for this request, best first (category, the resident's district, load, ratings)."""
    req = session.get(ServiceRequest, request_id)
    if req is None:
        raise AssistError(f"no request {request_id}")
    if req.category not in catalog.CATEGORIES:
        return []
    district = session.scalar(select(ResidentProfile.district).where(ResidentProfile.resident_id == req.resident_id))
    load, rated = loads(session), ratings(session)
    candidates = [
        ranking.Candidate(
            p.id, p.name, tuple(p.categories or ()), p.district, p.capacity, load.get(p.id, 0), *rated.get(p.id, (0, 0))
        )
        for p in session.scalars(select(Provider).where(Provider.active.is_(True)))
    ]
    return ranking.rank(candidates, req.category, district)
