"""The contact log (常态化联系): record a visit or call, read a resident's history."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.assist.store import from_contact
from server.care import audit
from server.care.errors import InvalidRecord
from server.care.plans import to_utc
from server.care.schemas import ContactIn
from server.db.models import Resident
from server.db.models_care import Contact, Helper, HelperPlan

# A contact logged for the future is a typo; a little skew between phone and server clocks is not.
_FUTURE_SLACK = timedelta(minutes=10)


def log_contact(
    session: Session, resident: Resident, body: ContactIn, by: str, now: datetime, helper: Helper | None = None
) -> Contact:
    """Store one contact; a helper may log only for residents they are paired with."""
    at = to_utc(body.at) if body.at else now
    if at > now + _FUTURE_SLACK:
        raise InvalidRecord("a contact cannot be in the future")
    if helper is None and body.helper_code:
        helper = session.scalars(select(Helper).where(Helper.code == body.helper_code)).first()
        if helper is None:
            raise InvalidRecord(f"no helper has the code {body.helper_code!r}")
    if (
        helper is not None
        and session.scalars(
            select(HelperPlan.id).where(HelperPlan.helper_id == helper.id, HelperPlan.resident_id == resident.id)
        ).first()
        is None
    ):
        raise InvalidRecord(f"{helper.name} is not paired with {resident.code}")
    row = Contact(
        resident_id=resident.id,
        helper_id=helper.id if helper else None,
        at=at,
        channel=body.channel,
        by=helper.name if helper else by,
        mood=body.mood,
        health=body.health,
        living=body.living,
        hazards=list(body.hazards),
        needs=body.needs or None,
        note=body.note or None,
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        by,
        "contact_logged",
        resident.id,
        now,
        contact=row.id,
        channel=body.channel,
        helper=helper.code if helper else None,
    )
    from_contact(session, resident, row, now)  # "needs raised" becomes a service request
    return row


def history(session: Session, resident_id: int, limit: int = 200) -> list[Contact]:
    """The resident's contacts, newest first."""
    return list(
        session.scalars(
            select(Contact)
            .where(Contact.resident_id == resident_id)
            .order_by(Contact.at.desc(), Contact.id.desc())
            .limit(limit)
        )
    )
