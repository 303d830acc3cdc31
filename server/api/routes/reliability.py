"""Delivery guarantees made visible: which sequence numbers of a gateway arrived, which are missing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from server.api.deps import SessionDep, permit
from server.auth import StaffIdentity
from server.reliability import sequence_report

router = APIRouter(prefix="/reliability", tags=["reliability"])
Admin = Annotated[StaffIdentity, Depends(permit("fleet.read"))]
GatewayId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


@router.get("/gateways/{gateway_id}/sequence")
def gateway_sequence(gateway_id: GatewayId, session: SessionDep, _who: Admin) -> dict[str, Any]:
    """Received, missing, thinned (accounted for by gap records) and unexplained sequence numbers.

    Rejected events are in the dead-letter table (`GET /api/v1/dead-letters`).
    """
    r = sequence_report(session, gateway_id)
    return {
        "gateway_id": r.gateway_id,
        "received": r.received,
        "last_seq": r.last_seq,
        "missing": r.missing,
        "accounted": r.accounted,
        "unexplained": r.unexplained,
        "unexplained_count": r.unexplained_count,
    }
