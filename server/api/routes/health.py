"""Liveness and counters."""

from __future__ import annotations

from fastapi import APIRouter, Request

from server.api.deps import ServicesDep
from server.api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
def health(request: Request, services: ServicesDep) -> HealthOut:
    """Is the server up, and what has ingest done."""
    ingest = getattr(request.app.state, "ingest", None)
    notifier = services.notifier
    return HealthOut(
        status="ok",
        ingest=dict(ingest.counters) if ingest else {},
        notifications_sent=notifier.sent if notifier else 0,
        notifications_failed=notifier.failed if notifier else 0,
    )
