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
    stream = getattr(request.app.state, "stream", None)  # uplink=nats (server/stream_consumer.py)
    stream_health = stream.health() if stream is not None else None
    if stream_health is not None and not stream_health.ok:
        intake_ok = False
    if not intake_ok:
        response.status_code = 503
    notifier = services.notifier
    return HealthOut(
        status="ok" if intake_ok else "unhealthy",
        intake=(
            f"dead: no probe back through the broker for {silent_s:.0f} s"
            if silent_s is not None
            else f"dead: {stream_health.problem}"
            if stream_health is not None and not stream_health.ok
            else "alive"
        ),
        ingest=dict(ingest.counters) if ingest else {},
        notifications_sent=notifier.sent if notifier else 0,
        notifications_failed=notifier.failed if notifier else 0,
    )
