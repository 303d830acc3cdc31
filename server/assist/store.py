"""Requests kept: intake from every channel, each step timed and audited, the queue with what is overdue."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import audit
from server.assist import catalog
from server.assist.errors import BadStep, NotFound
from server.assist.schemas import RequestIn, RequestOut
from server.audit import Actor
from server.care.plans import to_utc
from server.db.models import Resident, as_utc
from server.db.models_assist import Provider, ServiceRequest
from server.db.models_care import Contact, ResidentProfile

_STAMP = {
    "accepted": "accepted_at",
    "assigned": "assigned_at",
    "on_the_way": "on_the_way_at",
    "done": "done_at",
    "cancelled": "cancelled_at",
}


def resident_by_code(session: Session, code: str) -> Resident:
    """The resident with this code; raises NotFound."""
    row = session.scalars(select(Resident).where(Resident.code == code)).first()
    if row is None:
        raise NotFound(f"no resident has the code {code!r}")
    return row


def provider_by_code(session: Session, code: str) -> Provider:
    """The active provider with this code; raises NotFound."""
    row = session.scalars(select(Provider).where(Provider.code == code, Provider.active.is_(True))).first()
    if row is None:
        raise NotFound(f"no active provider has the code {code!r}")
    return row


def create(
    session: Session, body: RequestIn, channel: str, actor: Actor, now: datetime, contact: Contact | None = None
) -> ServiceRequest:
    """Take a request from a channel (staff, family, helper, home); audited."""
    resident = resident_by_code(session, body.resident_code)
    row = ServiceRequest(
        resident_id=resident.id,
        category=body.category,
        urgency=body.urgency,
        preferred_at=to_utc(body.preferred_at) if body.preferred_at else None,
        description=body.description.strip(),
        channel=channel,
        created_by=actor.name or channel,
        status="new",
        created_at=now,
        contact_id=contact.id if contact else None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "service_request.created",
        now,
        "service_request",
        str(row.id),
        after={"resident": resident.code, "category": row.category, "urgency": row.urgency, "channel": channel},
    )
    return row


def from_contact(session: Session, resident: Resident, contact: Contact, now: datetime) -> ServiceRequest | None:
    """The "needs raised" of a helper's contact as a new request (None when nothing was raised)."""
    if not contact.needs:
        return None
    body = RequestIn(
        resident_code=resident.code, category=catalog.guess_category(contact.needs), description=contact.needs[:2000]
    )
    return create(session, body, "helper", Actor(contact.by, "helper", None), now, contact=contact)


def step(
    session: Session,
    request_id: int,
    name: str,
    actor: Actor,
    now: datetime,
    provider: Provider | None = None,
    note: str | None = None,
) -> ServiceRequest:
    """Move a request one step (accepting first when a new one is assigned); every step is timed and audited."""
    row = session.get(ServiceRequest, request_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no request {request_id}")
    if name == "assigned" and row.status == "new":
        step(session, request_id, "accepted", actor, now)
    if name == "arrived":
        if row.status != "on_the_way" or row.arrived_at is not None:
            raise BadStep(f"a request that is {row.status} cannot be marked arrived")
        row.arrived_at = now
    else:
        catalog.check_step(row.status, name)
        if name == "assigned":
            if provider is None:
                raise BadStep("assigning needs a provider")
            if row.category not in (provider.categories or []):
                raise BadStep(f"{provider.name} does not serve {row.category}")
            row.provider_id = provider.id
        before = row.status
        row.status = name
        setattr(row, _STAMP[name], now)
        if note:
            row.note = note.strip()[:2000]
        audit.record(
            session,
            actor,
            f"service_request.{name}",
            now,
            "service_request",
            str(row.id),
            before={"status": before},
            after={"status": name, "provider": provider.code if provider else None, "note": note or None},
        )
        return row
    audit.record(session, actor, "service_request.arrived", now, "service_request", str(row.id))
    return row


def listing(
    session: Session,
    now: datetime,
    sla: Mapping[str, int],
    status: str | None = None,
    resident_id: int | None = None,
    provider_id: int | None = None,
    limit: int = 500,
    request_id: int | None = None,
) -> list[RequestOut]:
    """Requests, newest first, each with its due time and whether it is overdue."""
    q = (
        select(ServiceRequest, Resident, ResidentProfile.district, Provider)
        .join(Resident, Resident.id == ServiceRequest.resident_id)
        .outerjoin(ResidentProfile, ResidentProfile.resident_id == Resident.id)
        .outerjoin(Provider, Provider.id == ServiceRequest.provider_id)
        .order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
        .limit(limit)
    )
    if status == "open":
        q = q.where(ServiceRequest.status.in_(catalog.OPEN))
    elif status:
        q = q.where(ServiceRequest.status == status)
    if resident_id is not None:
        q = q.where(ServiceRequest.resident_id == resident_id)
    if provider_id is not None:
        q = q.where(ServiceRequest.provider_id == provider_id)
    if request_id is not None:
        q = q.where(ServiceRequest.id == request_id)
    return [to_out(r, res, district, p, now, sla) for r, res, district, p in session.execute(q)]


def to_out(
    r: ServiceRequest,
    resident: Resident,
    district: str | None,
    p: Provider | None,
    now: datetime,
    sla: Mapping[str, int],
) -> RequestOut:
    """One request as the API shows it."""
    created = as_utc(r.created_at)
    times = {
        k: as_utc(getattr(r, k)) if getattr(r, k) else None
        for k in (
            "preferred_at",
            "accepted_at",
            "assigned_at",
            "on_the_way_at",
            "arrived_at",
            "done_at",
            "cancelled_at",
        )
    }
    return RequestOut(
        id=r.id,
        resident_code=resident.code,
        resident_name=resident.name,
        district=district,
        category=r.category,
        urgency=r.urgency,
        description=r.description,
        channel=r.channel,
        created_by=r.created_by,
        status=r.status,
        provider_code=p.code if p else None,
        provider_name=p.name if p else None,
        created_at=created,
        note=r.note,
        due_at=catalog.due_at(created, r.category, r.urgency, sla),
        overdue=catalog.overdue(r.status, created, r.category, r.urgency, now, sla),
        **times,
    )


def one(session: Session, request_id: int, now: datetime, sla: Mapping[str, int]) -> RequestOut:
    """One request as the API shows it; raises NotFound."""
    found = listing(session, now, sla, request_id=request_id, limit=1)
    if not found:
        raise NotFound(f"no request {request_id}")
    return found[0]


def overdue_queue(session: Session, now: datetime, sla: Mapping[str, int]) -> list[RequestOut]:
    """Open requests past their SLA, the longest overdue first (the coordinator's queue)."""
    return sorted((r for r in listing(session, now, sla, status="open") if r.overdue), key=lambda r: r.due_at)
