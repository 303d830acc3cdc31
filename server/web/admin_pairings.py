"""Changing a resident's escalation order from the admin page: move a caregiver up or down, unpair one.

Each change is one audited transaction; the caregiver record itself stays (they may care for another
resident), only the pairing goes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import audit
from server.api.deps import ServicesDep, actor_of
from server.db.models import Pairing, Resident
from server.web.auth import PairingAdminDep

router = APIRouter(prefix="/console/admin/pairings", include_in_schema=False)


def _order(session: Session, resident: str) -> tuple[Resident, list[Pairing]]:
    row = session.scalars(select(Resident).where(Resident.code == resident)).first()
    if row is None:
        raise HTTPException(404, detail=f"no resident {resident}")
    return row, list(session.scalars(select(Pairing).where(Pairing.resident_id == row.id).order_by(Pairing.rank)))


def _codes(pairings: list[Pairing]) -> list[str]:
    return [p.caregiver.code for p in pairings]


def _index(pairings: list[Pairing], caregiver: str) -> int:
    for i, p in enumerate(pairings):
        if p.caregiver.code == caregiver:
            return i
    raise HTTPException(404, detail=f"{caregiver} is not paired with this resident")


def moved(codes: list[str], index: int, direction: str) -> list[str]:
    """The order with entry `index` moved one place up or down (unchanged at either end)."""
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(codes):
        return list(codes)
    out = list(codes)
    out[index], out[other] = out[other], out[index]
    return out


def _renumber(pairings: list[Pairing], codes: list[str]) -> None:
    by_code = {p.caregiver.code: p for p in pairings}
    for rank, code in enumerate(codes, start=1):
        by_code[code].rank = rank


@router.post("/{resident}/{caregiver}/move")
def move(
    resident: str,
    caregiver: str,
    request: Request,
    services: ServicesDep,
    user: PairingAdminDep,
    direction: Annotated[str, Form(pattern="^(up|down)$")],
) -> RedirectResponse:
    """Move a caregiver one place up or down in the resident's escalation order."""
    with services.sessions() as s, s.begin():
        row, pairings = _order(s, resident)
        before = _codes(pairings)
        after = moved(before, _index(pairings, caregiver), direction)
        _renumber(pairings, after)
        audit.record(
            s,
            actor_of(request, user),
            "pairing.write",
            services.clock(),
            "resident",
            row.code,
            {"order": before},
            {"order": after},
        )
    return RedirectResponse("/console/admin?saved=1", 303)


@router.post("/{resident}/{caregiver}/remove")
def remove(
    resident: str, caregiver: str, request: Request, services: ServicesDep, user: PairingAdminDep
) -> RedirectResponse:
    """Unpair a caregiver from the resident; the others keep their order."""
    with services.sessions() as s, s.begin():
        row, pairings = _order(s, resident)
        before = _codes(pairings)
        gone = pairings.pop(_index(pairings, caregiver))
        s.delete(gone)
        s.flush()
        _renumber(pairings, _codes(pairings))
        audit.record(
            s,
            actor_of(request, user),
            "pairing.write",
            services.clock(),
            "resident",
            row.code,
            {"order": before},
            {"order": _codes(pairings)},
        )
    return RedirectResponse("/console/admin?saved=1", 303)
