"""Residents and their pairings (结对): cards for staff and doctors, the escalation order for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import select

from server import audit
from server.api.deps import RowId, ServicesDep, SessionDep, actor_of, permit, record_read
from server.api.schemas import PairingIn, PairingOut, ResidentOut
from server.auth import StaffIdentity
from server.db.models import Caregiver, Pairing, Resident

router = APIRouter(prefix="/residents", tags=["residents"])
Reader = Annotated[StaffIdentity, Depends(permit("resident.read"))]
DeskOrAdmin = Annotated[StaffIdentity, Depends(permit("pairing.read"))]
Admin = Annotated[StaffIdentity, Depends(permit("pairing.write"))]


def _resident(session: SessionDep, resident_id: int) -> Resident:
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise HTTPException(404, detail=f"resident {resident_id} does not exist")
    return resident


@router.get("", response_model=list[ResidentOut])
def list_residents(
    session: SessionDep,
    _who: Reader,
    category: Annotated[str | None, Query(max_length=16, description="高龄, 空巢, 失能, 重病, 特困")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[Resident]:
    """Residents by code, optionally of one care category."""
    rows = list(session.scalars(select(Resident).order_by(Resident.code)))
    if category:
        rows = [r for r in rows if category in (r.care_categories or [])]
    return rows[:limit]


@router.get("/{resident_id}", response_model=ResidentOut)
def get_resident(
    resident_id: RowId, session: SessionDep, services: ServicesDep, request: Request, who: Reader
) -> Resident:
    """One resident's card."""
    resident = _resident(session, resident_id)
    record_read(services, request, who, "resident_card.read", "resident", resident.code)
    return resident


def _pairings(session: SessionDep, resident_id: int) -> list[PairingOut]:
    rows = session.scalars(select(Pairing).where(Pairing.resident_id == resident_id).order_by(Pairing.rank))
    return [
        PairingOut(
            rank=p.rank,
            caregiver_code=p.caregiver.code,
            caregiver_name=p.caregiver.name,
            relation=p.caregiver.relation,
            phone=p.caregiver.phone,
            language=p.caregiver.language,
            ack_timeout_s=p.ack_timeout_s,
            channels=len(p.caregiver.notify_urls or []),
        )
        for p in rows
    ]


@router.get("/{resident_id}/pairings", response_model=list[PairingOut])
def get_pairings(resident_id: RowId, session: SessionDep, _who: DeskOrAdmin) -> list[PairingOut]:
    """The resident's caregivers in escalation order."""
    _resident(session, resident_id)
    return _pairings(session, resident_id)


@router.put("/{resident_id}/pairings", response_model=list[PairingOut])
def set_pairings(
    resident_id: RowId, body: list[PairingIn], services: ServicesDep, request: Request, who: Admin
) -> list[PairingOut]:
    """Replace the escalation order (administrators)."""
    codes = [p.caregiver_code for p in body]
    if len(set(codes)) != len(codes):
        raise HTTPException(422, detail="a caregiver may appear only once in the order")
    with services.sessions() as s, s.begin():
        _resident(s, resident_id)
        found = {c.code: c for c in s.scalars(select(Caregiver).where(Caregiver.code.in_(codes)))}
        missing = [c for c in codes if c not in found]
        if missing:
            raise HTTPException(422, detail=f"unknown caregiver code(s): {', '.join(missing)}")
        before = [p.model_dump() for p in _pairings(s, resident_id)]
        for old in s.scalars(select(Pairing).where(Pairing.resident_id == resident_id)):
            s.delete(old)
        s.flush()
        for rank, p in enumerate(body, start=1):
            s.add(
                Pairing(
                    resident_id=resident_id,
                    caregiver_id=found[p.caregiver_code].id,
                    rank=rank,
                    ack_timeout_s=p.ack_timeout_s,
                )
            )
        s.flush()
        after = _pairings(s, resident_id)
        audit.record(
            s,
            actor_of(request, who),
            "pairing.write",
            services.clock(),
            "resident",
            _resident(s, resident_id).code,
            {"pairings": before},
            {"pairings": [p.model_dump() for p in after]},
        )
        return after
