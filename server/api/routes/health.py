"""Liveness and counters."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from server.api.deps import ServicesDep
from server.api.schemas import HealthOut
from server.intake_probe import IntakeProbe

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
def health(request: Request, response: Response, services: ServicesDep) -> HealthOut:
    """Is the server up, is its alarm intake alive (503 when not), and what has ingest done."""
    ingest = getattr(request.app.state, "ingest", None)
    probe: IntakeProbe | None = getattr(request.app.state, "probe", None)
    silent_s = None if probe is None or probe.healthy else probe.seconds_silent()  # None: the intake is alive
    intake_ok = silent_s is None
    if not intake_ok:
        response.status_code = 503
    notifier = services.notifier
    return HealthOut(
        status="ok" if intake_ok else "unhealthy",
        intake="alive" if silent_s is None else f"dead: no probe back through the broker for {silent_s:.0f} s",
        ingest=dict(ingest.counters) if ingest else {},
        notifications_sent=notifier.sent if notifier else 0,
        notifications_failed=notifier.failed if notifier else 0,
    )
