"""Delivery guarantees made visible: a gateway's sequence gaps and the dead-letter table."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from server.api.deps import SessionDep
from server.reliability import dead_letters, sequence_report

router = APIRouter(prefix="/reliability", tags=["reliability"])


@router.get("/gateways/{gateway_id}/sequence")
def gateway_sequence(gateway_id: str, session: SessionDep) -> dict[str, Any]:
    """Received, missing, thinned (accounted for by gap records) and unexplained sequence numbers."""
    r = sequence_report(session, gateway_id)
    return {"gateway_id": r.gateway_id, "received": r.received, "last_seq": r.last_seq, "missing": r.missing,
            "accounted": r.accounted, "unexplained": r.unexplained, "unexplained_count": r.unexplained_count}


@router.get("/dead-letters")
def list_dead_letters(session: SessionDep, gateway_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Messages and events the server rejected, newest first: never dropped silently."""
    return dead_letters(session, gateway_id, min(max(limit, 1), 1000))
